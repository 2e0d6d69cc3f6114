/**
 * @deltabox/protocol — the HTTP contract shared by the server and the scanner: routes, headers,
 * error codes, wire types and the path rule. Data and pure functions only; no I/O.
 */
export * from './routes.js';
export * from './headers.js';
export * from './errors.js';
export * from './types.js';
export * from './batch-compact.js';
export * from './batch-frames.js';
export * from './paths.js';
export * from './conflict-name.js';
export * from './mtime.js';
export * from './revision-ranges.js';
