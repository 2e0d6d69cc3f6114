/**
 * Node built-ins that only some operations need (zlib, worker_threads), loaded on first use rather than when
 * the core is imported: each costs ~1-3 ms of start-up, which a `deltabox signature` of a small file would pay
 * for nothing. node:module's createRequire is the synchronous way to load a built-in from an ES module.
 */
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);
let zlib: typeof import('node:zlib') | undefined;
let workerThreads: typeof import('node:worker_threads') | undefined;

/** node:zlib, loaded on the first call. */
export function nodeZlib(): typeof import('node:zlib') {
  return (zlib ??= load('node:zlib') as typeof import('node:zlib'));
}

/** node:worker_threads, loaded on the first call. */
export function nodeWorkerThreads(): typeof import('node:worker_threads') {
  return (workerThreads ??= load('node:worker_threads') as typeof import('node:worker_threads'));
}
