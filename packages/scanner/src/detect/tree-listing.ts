/**
 * The raw listing of a client folder (readdir and lstat of every entry) made on a worker thread, so that it
 * overlaps with the state load on the main thread (a no-change rescan of 100,000 files spends about as long
 * loading its rows as listing the folder). It decides nothing: which entries are synced is tree-walk.ts's
 * (walkListing replays this listing through the same rules as walkTree). It descends into every folder but
 * the root's state folder, ignored ones included, and gives up past the limit its caller sets.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { STATE_DIR } from '@deltabox/protocol';

/** Record kinds (`nums[i * FIELDS]`). A folder's entries follow its HEADER (or HEADER_ERROR) record. */
export const KIND = {
  FILE: 0,
  DIR: 1,
  SYMLINK: 2,
  OTHER: 3,
  /** Deleted between readdir and lstat. */
  GONE: 4,
  /** lstat failed: the message is in `errors`. */
  ERROR: 5,
  /** A name that is not valid UTF-8 (the name holds its bytes as latin1), not a folder / a folder. */
  BAD_NAME_FILE: 6,
  BAD_NAME_DIR: 7,
  /** Start of a folder's entries: `nums[i * FIELDS + 1]` is the folder's record (-1: the root). */
  HEADER: 8,
  /** A folder that could not be listed: the name holds the error. */
  HEADER_ERROR: 9,
  /** A folder the worker did not descend into (the root's state folder). */
  PRUNED_DIR: 10,
} as const;

/** Numbers per record: kind, size, mtimeMs, ino, mode, dev (lstat's, as numbers). */
export const FIELDS = 6;

/** What the worker found. Records are in the walk's order: a folder's entries in readdir order. */
export interface TreeListing {
  /** Date.now() before the first readdir: the scan's start for the racy-mtime rule. */
  startedMs: number;
  count: number;
  names: string[];
  nums: Float64Array;
  /** lstat errors by record. */
  errors: Map<number, string>;
}

/** The worker (CommonJS, run with eval): lists `root` depth first as walkTree does, then posts the listing. */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { readdirSync, lstatSync } = require('node:fs');
const { isUtf8 } = require('node:buffer');
const { root, prune, port, flag } = workerData;
const K = ${JSON.stringify(KIND)};
const prefix = root.endsWith('/') ? root : root + '/';
const ctrl = new Int32Array(flag);
let nums = new Float64Array(${FIELDS} * 4096);
const names = [];
const errors = [];
let count = 0;
function push(kind, name, st) {
  if (count * ${FIELDS} === nums.length) {
    const grown = new Float64Array(nums.length * 2);
    grown.set(nums);
    nums = grown;
  }
  const o = count * ${FIELDS};
  nums[o] = kind;
  if (st !== undefined) {
    nums[o + 1] = st.size;
    nums[o + 2] = st.mtimeMs;
    nums[o + 3] = st.ino;
    nums[o + 4] = st.mode;
    nums[o + 5] = st.dev;
  }
  names.push(name);
  Atomics.add(ctrl, 1, 1);
  return count++;
}
function list() {
  const stack = [[-1, '']];
  while (stack.length > 0) {
    if (count > Atomics.load(ctrl, 2)) return false;
    const [record, diskPath] = stack.pop();
    let raw;
    try {
      raw = readdirSync(diskPath === '' ? root : prefix + diskPath, { encoding: 'buffer' });
    } catch (err) {
      nums[push(K.HEADER_ERROR, String(err)) * ${FIELDS} + 1] = record;
      continue;
    }
    nums[push(K.HEADER, '') * ${FIELDS} + 1] = record;
    for (const b of raw) {
      if (!isUtf8(b)) {
        const st = lstatSync(Buffer.concat([Buffer.from(diskPath === '' ? prefix : prefix + diskPath + '/'), b]), { throwIfNoEntry: false });
        push(st !== undefined && st.isDirectory() ? K.BAD_NAME_DIR : K.BAD_NAME_FILE, b.toString('latin1'));
        continue;
      }
      const name = b.toString('utf8');
      const path = diskPath === '' ? name : diskPath + '/' + name;
      let st;
      try {
        st = lstatSync(prefix + path, { throwIfNoEntry: false });
      } catch (err) {
        errors.push([push(K.ERROR, name), String(err)]);
        continue;
      }
      if (st === undefined) {
        push(K.GONE, name);
        continue;
      }
      if (!st.isDirectory()) {
        push(st.isSymbolicLink() ? K.SYMLINK : st.isFile() ? K.FILE : K.OTHER, name, st);
        continue;
      }
      if (diskPath === '' && name === prune) {
        push(K.PRUNED_DIR, name, st);
        continue;
      }
      stack.push([push(K.DIR, name, st), path]);
    }
  }
  return true;
}
try {
  if (list()) {
    const trimmed = nums.slice(0, count * ${FIELDS});
    port.postMessage({ count, names, nums: trimmed, errors }, [trimmed.buffer]);
  } else {
    port.postMessage({ tooMany: true });
  }
} catch (err) {
  port.postMessage({ failed: String(err) });
}
port.close();
Atomics.store(ctrl, 0, 1);
Atomics.notify(ctrl, 0);
`;

/** take() gives up on a worker that lists no entry for this long (the caller then walks on its own). */
const STALL_MS = 10_000;

/** A listing under way on a worker thread. */
export class ListingWorker {
  readonly startedMs = Date.now();
  readonly #worker: Worker;
  readonly #port: MessagePort;
  /** [done, entries listed so far, the entry limit]. */
  readonly #ctrl = new Int32Array(new SharedArrayBuffer(12));
  #taken = false;
  #exited = false;

  /** Starts listing `root`, with no entry limit unless `maxRecords` (or limit() later) sets one. */
  constructor(root: string, maxRecords = 0x7fffffff) {
    this.limit(maxRecords);
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { root, prune: STATE_DIR, port: port2, flag: this.#ctrl.buffer },
      transferList: [port2],
    });
    // Never what keeps the process alive, and an error is take()'s to report (as undefined).
    this.#worker.unref();
    this.#worker.on('error', () => {});
    this.#worker.on('exit', () => {
      this.#exited = true;
    });
  }

  /**
   * Waits for the listing (blocking: the caller has nothing else to do before its walk) and ends the worker.
   * Undefined when the worker failed, gave up or stalled: the caller walks the folder itself.
   */
  take(): TreeListing | undefined {
    if (this.#taken) return undefined;
    this.#taken = true;
    try {
      if (!this.#waitDone()) return undefined;
      const message = receiveMessageOnPort(this.#port)?.message as
        | { count: number; names: string[]; nums: Float64Array; errors: Array<[number, string]> }
        | { tooMany: true }
        | { failed: string }
        | undefined;
      if (message === undefined || !('count' in message)) return undefined;
      return { startedMs: this.startedMs, count: message.count, names: message.names, nums: message.nums, errors: new Map(message.errors) };
    } finally {
      this.close();
    }
  }

  /** Waits until the worker is done; false when it exited without finishing or listed no entry for STALL_MS. */
  #waitDone(): boolean {
    let progress = -1;
    let lastProgressMs = Date.now();
    while (Atomics.load(this.#ctrl, 0) === 0) {
      // An exit seen by the event loop before this call (a worker that could not start) is final.
      if (this.#exited) return false;
      const now = Date.now();
      const listed = Atomics.load(this.#ctrl, 1);
      if (listed !== progress) {
        progress = listed;
        lastProgressMs = now;
      } else if (now - lastProgressMs > STALL_MS) {
        return false;
      }
      Atomics.wait(this.#ctrl, 0, 0, 500);
    }
    return true;
  }

  /**
   * Past `maxRecords` entries the worker gives up and take() answers undefined (a large ignored folder). Set
   * once the caller knows how large the folder was: a worker already past it stops at its next folder, one
   * that has finished keeps its listing.
   */
  limit(maxRecords: number): void {
    Atomics.store(this.#ctrl, 2, Math.min(maxRecords, 0x7fffffff));
  }

  /** Ends the worker without waiting for it. */
  close(): void {
    this.#taken = true;
    this.#port.close();
    void this.#worker.terminate();
  }
}
