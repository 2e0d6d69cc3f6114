/**
 * Sends the bytes of an open ReadHandle as a download: whole (200) or one byte range (206, `Range`), with
 * `accept-ranges`, `content-length` and `content-range`; 416 with a catalogue body when the range does not
 * fit. Shared by file downloads and version downloads. The handle is always consumed (streamed or closed).
 */
import type { FastifyReply } from 'fastify';
import { mediaTypes } from '@deltabox/protocol';
import { ApiError } from '../api-error.js';
import type { ReadHandle } from '../storage/storage.js';
import { parseRange } from './range.js';

/** @throws ApiError RANGE_NOT_SATISFIABLE (the handle is closed first) */
export async function sendBytes(reply: FastifyReply, handle: ReadHandle, rangeHeader: string | undefined): Promise<FastifyReply> {
  const range = parseRange(rangeHeader, handle.size);
  reply.header('accept-ranges', 'bytes').type(mediaTypes.octets);
  if (range.kind === 'unsatisfiable') {
    await handle.close();
    reply.header('content-range', `bytes */${handle.size}`);
    throw new ApiError('RANGE_NOT_SATISFIABLE', `range '${rangeHeader}' does not fit ${handle.size} bytes`);
  }
  if (handle.size === 0) {
    await handle.close();
    return reply.header('content-length', '0').send(Buffer.alloc(0));
  }
  if (range.kind === 'partial') {
    reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${handle.size}`);
    reply.header('content-length', String(range.end - range.start + 1));
    return reply.send(handle.stream(range.start, range.end));
  }
  reply.header('content-length', String(handle.size));
  return reply.send(handle.stream());
}
