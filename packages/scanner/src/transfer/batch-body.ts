/**
 * Builds the body of a batch upload (POST /v1/batch, docs/API.md §POST /v1/batch) in either encoding: frames
 * (a deflated part list, then the parts' bytes; protocol batch-frames.ts) or multipart/form-data, where a
 * `meta` JSON part (BatchPartMeta) precedes each file part. Bytes only; sending is the API client's job.
 */
import { randomBytes } from 'node:crypto';
import { encodeBatchFramesHeader, mediaTypes, type BatchPartMeta } from '@deltabox/protocol';

export interface BatchPart {
  meta: BatchPartMeta;
  /** What goes on the wire: the file's bytes, or for a delta part (`meta.delta`) the delta. */
  bytes: Uint8Array;
  /** A delta part's file size (`meta.size` is the delta's); the entry of a compact answer takes it. */
  fileSize?: number;
}

export interface BatchBody {
  contentType: string;
  chunks: Uint8Array[];
}

/** The frames body of `parts`: the header listing them, then their bytes in the same order. */
export function buildFramesBody(parts: readonly BatchPart[]): BatchBody {
  return { contentType: mediaTypes.batchFrames, chunks: [encodeBatchFramesHeader(parts.map((p) => p.meta)), ...parts.map((p) => p.bytes)] };
}

/** The multipart body of `parts`; the boundary is random so no file content can contain it by accident. */
export function buildMultipartBody(parts: readonly BatchPart[]): BatchBody {
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
