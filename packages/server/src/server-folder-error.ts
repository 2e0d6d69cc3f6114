/**
 * Why a folder cannot be served (or its tokens managed): each cause has a stable code, so the CLI can turn
 * it into a usage-class exit and embedders can branch on it. Raised before anything is written.
 */

export type ServerFolderErrorCode =
  | 'NO_SUCH_FOLDER' // the folder does not exist (and the operation does not create it)
  | 'NOT_A_FOLDER' // the path names a file (or something else that is not a folder)
  | 'NOT_SERVED' // the folder exists but has no server state (never served; nothing to list or revoke)
  | 'CLIENT_FOLDER_NESTED' // the folder is, contains or lies inside a deltabox client folder
  | 'FOLDER_IN_USE'; // another server process serves this folder

export class ServerFolderError extends Error {
  constructor(
    readonly code: ServerFolderErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ServerFolderError';
  }
}
