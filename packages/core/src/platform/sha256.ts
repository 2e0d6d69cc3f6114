/** The one seam to node:crypto: incremental SHA-256 for whole-file content hashes. */
import { createHash } from 'node:crypto';

export interface Sha256 {
  update(chunk: Uint8Array): void;
  digest(): Uint8Array;
  /** Releases what the hasher holds (a worker thread) when it is abandoned before digest(). */
  close?(): void;
}

export function createSha256(): Sha256 {
  const h = createHash('sha256');
  return {
    update(chunk) {
      h.update(chunk);
    },
    digest() {
      return new Uint8Array(h.digest());
    },
  };
}
