/** The response headers that describe a stored version (downloads and successful writes). */
import type { FastifyReply } from 'fastify';
import { formatEtag, headers, type ManifestEntry } from '@deltabox/protocol';

/** Headers describing a stored version, on downloads and after writes. */
export function setEntryHeaders(reply: FastifyReply, entry: ManifestEntry): void {
  reply.header(headers.revision, String(entry.revision));
  reply.header(headers.mtimeMs, String(entry.mtimeMs));
  if (entry.hash) reply.header(headers.etag, formatEtag(entry.hash));
  if (entry.type === 'file') reply.header(headers.executable, entry.executable ? '1' : '0');
}
