/** Builds multipart/form-data batch bodies by hand, so tests control every byte. */
import { createHash } from 'node:crypto';

export interface BatchFile {
  path: string;
  content: Buffer | string;
  mtimeMs?: number;
  executable?: boolean;
  /** Override the meta fields (to test bad ones). */
  meta?: Record<string, unknown>;
  /** Leave out the meta part. */
  noMeta?: boolean;
}

/** The meta of `f` as a client would send it (size and hash of its content), with `f.meta` over it. */
export function metaOf(f: BatchFile): Record<string, unknown> {
  const content = Buffer.from(f.content);
  return {
    path: f.path,
    size: content.length,
    mtimeMs: f.mtimeMs ?? 1_700_000_000_000,
    hash: createHash('sha256').update(content).digest('hex'),
    ...(f.executable === undefined ? {} : { executable: f.executable }),
    ...f.meta,
  };
}

export function batchBody(files: BatchFile[], boundary = 'dbxBoundary7f3a'): { body: Buffer; contentType: string } {
  const parts: Buffer[] = [];
  for (const f of files) {
    const content = Buffer.from(f.content);
    if (!f.noMeta) {
      parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="meta"\r\ncontent-type: application/json\r\n\r\n${JSON.stringify(metaOf(f))}\r\n`));
    }
    parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="blob"\r\ncontent-type: application/octet-stream\r\n\r\n`));
    parts.push(content, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}
