/**
 * @deltabox/scanner — the client that keeps a server's folder identical to a local one:
 * detect (tree-walk, change-detector) -> queue (op-queue, state-store) -> transfer (transfer, api-client).
 * Re-exports only.
 */
export { Scanner, type ScannerOptions, type SyncSummary, type ProgressSnapshot } from './scanner.js';
export { ScannerError, type ScannerErrorCode, isConnectivityError, isFatalError } from './errors.js';
export { silentLogger, jsonLogger, type Logger } from './logger.js';
export { ProgressDisplay, formatBytes, formatDuration, formatEta, progressLine } from './progress.js';
export { escapeName } from './detect/escape-name.js';
export { BUILTIN_IGNORES, IGNORE_FILE, buildIgnoreRules } from './detect/ignore-rules.js';
export { readStoredSetting, writeStoredSetting } from './state/settings.js';
export * as defaults from './constants.js';
