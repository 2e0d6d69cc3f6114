/**
 * Reads a request body by exact lengths: so many bytes whole (a header whose length the caller has checked),
 * so many streamed (a part, never held whole), then nothing more. Holds at most one network chunk beyond what
 * was asked for. Knows no format; the errors say where in the body it stopped.
 */
import type { Readable } from 'node:stream';
import { ApiError } from './api-error.js';

/** A stretch of the body read as a stream: `chunks` yields its bytes, `skip` discards what is left of them. */
export interface BodySpan {
  chunks: AsyncIterable<Uint8Array>;
  /** @throws ApiError TRUNCATED_UPLOAD when the body ends before the stretch does */
  skip(): Promise<void>;
}

/** One body, read front to back: each call takes up where the last one ended. */
export class BodyReader {
  readonly #source: AsyncIterator<Buffer>;
  #pending: Buffer = Buffer.alloc(0);
  #ended = false;
  /** Bytes of the body handed out so far. */
  #offset = 0;

  /** Reads `body` through its async iterator, never returning it early: a refused body is not destroyed here. */
  constructor(body: Readable) {
    this.#source = body[Symbol.asyncIterator]();
  }

  /**
   * Exactly `length` bytes, whole; `what` names them in errors. The caller has checked `length` against its limit.
   * @throws ApiError TRUNCATED_UPLOAD
   */
  async read(length: number, what: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for (let left = length; left > 0; ) {
      const chunk = await this.#take(left, what);
      chunks.push(chunk);
      left -= chunk.length;
    }
    return Buffer.concat(chunks, length);
  }

  /** The next `length` bytes as a stream; read or skip them all before asking for more of the body. */
  span(length: number, what: string): BodySpan {
    let left = length;
    const take = async (): Promise<Buffer> => {
      const chunk = await this.#take(left, what);
      left -= chunk.length; // counted before the consumer sees it, so skip() resumes at the right byte
      return chunk;
    };
    return {
      chunks: (async function* () {
        while (left > 0) yield await take();
      })(),
      skip: async () => {
        while (left > 0) await take();
      },
    };
  }

  /** Resolves once the body has ended here. @throws ApiError BAD_REQUEST when bytes follow `what` */
  async end(what: string): Promise<void> {
    if (this.#pending.length === 0 && (await this.#pull()) === undefined) return;
    throw new ApiError('BAD_REQUEST', `the body goes on after ${what} (byte ${this.#offset})`);
  }

  /** Up to `max` bytes (at least one). @throws ApiError TRUNCATED_UPLOAD when the body has ended */
  async #take(max: number, what: string): Promise<Buffer> {
    if (this.#pending.length === 0) {
      const chunk = await this.#pull();
      if (chunk === undefined) throw new ApiError('TRUNCATED_UPLOAD', `the body ended at byte ${this.#offset}, inside ${what}`);
    }
    const out = this.#pending.subarray(0, max);
    this.#pending = this.#pending.subarray(out.length);
    this.#offset += out.length;
    return out;
  }

  /** Fills `#pending` with the next non-empty chunk; undefined at the end of the body. */
  async #pull(): Promise<Buffer | undefined> {
    while (!this.#ended) {
      let next: IteratorResult<Buffer>;
      try {
        next = await this.#source.next();
      } catch (err) {
        this.#ended = true;
        throw new ApiError('TRUNCATED_UPLOAD', `the body broke off at byte ${this.#offset}`, {}, { cause: err });
      }
      if (next.done) this.#ended = true;
      else if (next.value.length > 0) return (this.#pending = next.value);
    }
    return undefined;
  }
}
