/**
 * SHA-256 on a worker thread, behind the same synchronous interface as sha256.ts: update() copies the bytes
 * into a ring of slots in shared memory and returns at once (it blocks only while the ring is full); the
 * worker hashes slot after slot; digest() waits for the worker's result. The patch applier uses it for large
 * files so that hashing (~1.7 GB/s, most of a patch's CPU) overlaps with reading the basis and writing the
 * output. Only Atomics and one SharedArrayBuffer cross the threads: no message needs the event loop, so a
 * caller that never yields to it (a synchronous loop) still makes progress.
 */
import { nodeWorkerThreads } from './builtin.js';
import type { Sha256 } from './sha256.js';

const SLOTS = 8;
const SLOT_SIZE = 1 << 20;
/** Int32 control words: slots written, slots hashed, result ready. */
const HEAD = 0;
const TAIL = 1;
const DONE = 2;
const CONTROL_WORDS = 4;
/** A slot length that tells the worker to finish. */
const FINISH = -1;
/** No progress from the worker for this long is an error, not a hang. */
const STALL_MS = 60_000;

/** The worker: hashes slots as they come, writes the digest after the FINISH slot. CommonJS, run with eval. */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { sab, SLOTS, SLOT_SIZE, CONTROL_WORDS } = workerData;
const ctrl = new Int32Array(sab, 0, CONTROL_WORDS);
const lens = new Int32Array(sab, CONTROL_WORDS * 4, SLOTS);
const dataStart = (CONTROL_WORDS + SLOTS) * 4;
const result = new Uint8Array(sab, dataStart + SLOTS * SLOT_SIZE, 32);
const h = createHash('sha256');
for (let tail = 0;;) {
  while (Atomics.load(ctrl, ${HEAD}) === tail) Atomics.wait(ctrl, ${HEAD}, tail);
  const slot = tail % SLOTS;
  const n = lens[slot];
  if (n === ${FINISH}) {
    result.set(h.digest());
    Atomics.store(ctrl, ${DONE}, 1);
    Atomics.notify(ctrl, ${DONE});
    break;
  }
  h.update(new Uint8Array(sab, dataStart + slot * SLOT_SIZE, n));
  tail++;
  Atomics.store(ctrl, ${TAIL}, tail);
  Atomics.notify(ctrl, ${TAIL});
}
`;

/** Waits until ctrl[index] !== value, or throws after STALL_MS without a change. */
function waitChange(ctrl: Int32Array, index: number, value: number): void {
  while (Atomics.load(ctrl, index) === value) {
    if (Atomics.wait(ctrl, index, value, STALL_MS) === 'timed-out') throw new Error('the SHA-256 worker made no progress');
  }
}

/** A SHA-256 hasher that can be abandoned: close() ends its worker (digest() ends it too). */
export interface ClosableSha256 extends Sha256 {
  close(): void;
}

/** A SHA-256 whose hashing runs on its own worker thread. digest() may be called once. */
export function createWorkerSha256(): ClosableSha256 {
  const dataStart = (CONTROL_WORDS + SLOTS) * 4;
  const sab = new SharedArrayBuffer(dataStart + SLOTS * SLOT_SIZE + 32);
  const ctrl = new Int32Array(sab, 0, CONTROL_WORDS);
  const lens = new Int32Array(sab, CONTROL_WORDS * 4, SLOTS);
  const data = new Uint8Array(sab, dataStart, SLOTS * SLOT_SIZE);
  const worker = new (nodeWorkerThreads().Worker)(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { sab, SLOTS, SLOT_SIZE, CONTROL_WORDS } });
  worker.unref();
  let head = 0;
  /** Waits until the next slot is free (the worker has hashed it); returns its index. */
  const freeSlot = (): number => {
    const tail = Atomics.load(ctrl, TAIL);
    if (head - tail === SLOTS) waitChange(ctrl, TAIL, tail);
    return head % SLOTS;
  };
  /** Hands the next slot, holding `n` bytes (or FINISH), to the worker. */
  const publish = (n: number): void => {
    lens[head % SLOTS] = n;
    head++;
    Atomics.store(ctrl, HEAD, head);
    Atomics.notify(ctrl, HEAD);
  };
  /** Fills the next slot (waiting for a free one) and hands it to the worker. */
  const push = (bytes: Uint8Array | undefined): void => {
    const slot = freeSlot();
    if (bytes) data.set(bytes, slot * SLOT_SIZE);
    publish(bytes ? bytes.length : FINISH);
  };
  return {
    lend(maxLength) {
      const slot = freeSlot();
      return data.subarray(slot * SLOT_SIZE, slot * SLOT_SIZE + Math.min(maxLength, SLOT_SIZE));
    },
    hashLent(n) {
      publish(n);
    },
    update(chunk) {
      for (let at = 0; at < chunk.length; at += SLOT_SIZE) push(chunk.subarray(at, Math.min(chunk.length, at + SLOT_SIZE)));
    },
    digest() {
      push(undefined);
      waitChange(ctrl, DONE, 0);
      const out = new Uint8Array(sab, dataStart + SLOTS * SLOT_SIZE, 32).slice();
      void worker.terminate();
      return out;
    },
    close() {
      void worker.terminate();
    },
  };
}
