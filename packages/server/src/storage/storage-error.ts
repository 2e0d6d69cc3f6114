/** The errors a Storage backend may throw, each with a stable code the HTTP layer maps (api-error.ts). */

export type StorageErrorCode =
  | 'NOT_FOUND' // nothing at the path (or at a parent)
  | 'TYPE_CONFLICT' // a file where a folder is needed, or the other way round
  | 'ALREADY_EXISTS' // create-only operation onto an existing path
  | 'NOT_EMPTY' // non-recursive removal of a folder that has entries
  | 'SYMLINK' // a symlink or special file inside the root on the way to the target
  | 'NO_SPACE'; // the device is full (ENOSPC / EDQUOT)

export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageError';
  }
}

/**
 * Turns an fs error into a StorageError when it has a meaning for callers; otherwise returns it unchanged.
 * `path` is the relative path the caller asked about: messages reach clients, so never an absolute one.
 */
export function fromFsError(err: unknown, path: string): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new StorageError('NO_SPACE', path ? `no space left on the device writing '${path}'` : 'no space left on the device', { cause: err });
    case 'ENOENT':
      return new StorageError('NOT_FOUND', `'${path}' does not exist`, { cause: err });
    case 'ENOTDIR':
    case 'EISDIR':
      return new StorageError('TYPE_CONFLICT', `'${path}': a file is where a folder is needed, or the other way round`, { cause: err });
    case 'ELOOP':
      return new StorageError('SYMLINK', `'${path}' is a symlink`, { cause: err });
    case 'ENOTEMPTY':
    case 'EEXIST':
      return new StorageError('NOT_EMPTY', `folder '${path}' is not empty`, { cause: err });
    default:
      return err;
  }
}
