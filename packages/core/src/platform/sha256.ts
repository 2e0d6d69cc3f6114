/** The one seam to node:crypto: incremental SHA-256 for whole-file content hashes. */
import { createHash } from 'node:crypto';

export interface Sha256 {
  update(chunk: Uint8Array): void;
  digest(): Uint8Array;
  /** Releases what the hasher holds (a worker thread) when it is abandoned before digest(). */
  close?(): void;
  /**
   * Zero-copy update (worker hasher only): a view of the hasher's next free buffer, at most `maxLength` bytes.
   * Fill it, then call hashLent(n) with the bytes filled. The view stays unchanged until several more updates
   * have been made, so a consumer that is done with it before the next update may read it meanwhile.
   */
  lend?(maxLength: number): Uint8Array;
  /** Hashes the first `n` bytes of the view the last lend() returned. */
  hashLent?(n: number): void;
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
