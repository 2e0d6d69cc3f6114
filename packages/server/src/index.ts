/**
 * @deltabox/server — the Fastify app that mirrors a folder for deltabox clients, its token admin, and
 * the Storage interface for further backends. Re-exports only.
 */
export type { ServerOptions, AppOverrides } from './app.js';
export type { ServerLimits } from './limits.js';
export { defaultLimits } from './limits.js';
export { createToken, listTokens, revokeToken, isTokenValid, TOKEN_PREFIX, TokenError, type TokenErrorCode } from './auth/token-store.js';
export type { Storage, StorageEntry, StagedFile, ReadHandle, CommitMeta, KeepExpectation, KeptObject } from './storage/storage.js';
export { ServerFolderError, type ServerFolderErrorCode } from './server-folder-error.js';
export { StorageError, type StorageErrorCode } from './storage/storage-error.js';
export { LocalStorage } from './storage/local-storage.js';
export { buildServer, buildApp } from './app.js';
export { DEFAULT_RETENTION, keep, type RetentionPolicy, type RetainedVersion } from './history/retention.js';
export { readableLogStream, formatLogLine } from './readable-log.js';
