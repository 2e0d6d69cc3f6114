/**
 * Builds the body of a batch upload (POST /v1/batch, docs/API.md §Batch): multipart/form-data where a
 * `meta` JSON part (BatchPartMeta) precedes each file part. Bytes only; sending is the API client's job.
 */
import { randomBytes } from 'node:crypto';
import type { BatchPartMeta } from '@deltabox/protocol';

export interface BatchPart {
  meta: BatchPartMeta;
  bytes: Uint8Array;
}

export interface MultipartBody {
  contentType: string;
  chunks: Uint8Array[];
}

/** Encodes `parts` in order; the boundary is random so no file content can contain it by accident. */
export function buildBatchBody(parts: readonly BatchPart[]): MultipartBody {
  const boundary = `deltabox-${randomBytes(16).toString('hex')}`;
  const chunks: Uint8Array[] = [];
  parts.forEach((part, index) => {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="meta"\r\nContent-Type: application/json\r\n\r\n` +
          `${JSON.stringify(part.meta)}\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f${index}"\r\n` +
          'Content-Type: application/octet-stream\r\n\r\n',
      ),
      part.bytes,
      Buffer.from('\r\n'),
    );
  });
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { contentType: `multipart/form-data; boundary=${boundary}`, chunks };
}
