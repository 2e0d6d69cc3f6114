/**
 * Builds batch-frames bodies (protocol batch-frames.ts) for tests: from the protocol's encoder, or by hand
 * with a header of any JSON and prefix lengths that may lie, so tests control every byte.
 */
import { deflateRaw } from '@deltabox/core';
import { encodeBatchFramesHeader, mediaTypes, type BatchPartMeta } from '@deltabox/protocol';
import { metaOf, type BatchFile } from './multipart.js';

export const framesHeaders = { 'content-type': mediaTypes.batchFrames };

/** The body a client sends for `files`: each part's bytes are its content, its meta as in metaOf. */
export function framesBody(files: BatchFile[]): Buffer {
  const header = encodeBatchFramesHeader(files.map((f) => metaOf(f) as unknown as BatchPartMeta));
  return Buffer.concat([header, ...files.map((f) => Buffer.from(f.content))]);
}

/** A body whose header is `json` (a value, or text sent as it is) deflated, then `parts`; `lengths` replace the prefix's. */
export function rawFramesBody(json: unknown, parts: Array<Buffer | string> = [], lengths: { headerBytes?: number; jsonBytes?: number } = {}): Buffer {
  const text = Buffer.from(typeof json === 'string' ? json : JSON.stringify(json));
  const header = Buffer.from(deflateRaw(text));
  const prefix = Buffer.alloc(8);
  prefix.writeUInt32BE(lengths.headerBytes ?? header.length, 0);
  prefix.writeUInt32BE(lengths.jsonBytes ?? text.length, 4);
  return Buffer.concat([prefix, header, ...parts.map((p) => Buffer.from(p))]);
}
