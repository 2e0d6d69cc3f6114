/** Whole-file content hashes: SHA-256 as lower-case hex, the value the API and the delta trailer carry. */
import { toHex } from './hex.js';
import { createSha256 } from './platform/sha256.js';

export interface ContentHasher {
  update(chunk: Uint8Array): void;
  /** Hex digest; call once. */
  digestHex(): string;
}

export function createContentHasher(): ContentHasher {
  const sha = createSha256();
  return {
    update: (chunk) => sha.update(chunk),
    digestHex: () => toHex(sha.digest()),
  };
}

/** Hash and length of a whole stream. */
export async function contentHashOf(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<{ hash: string; length: number }> {
  const h = createContentHasher();
  let length = 0;
  for await (const chunk of source) {
    h.update(chunk);
    length += chunk.length;
  }
  return { hash: h.digestHex(), length };
}
