/** The error catalogue: every `code` the API returns, with its HTTP status. docs/API.md lists each. */
export const errorCatalogue = {
  BAD_REQUEST: { status: 400, description: 'The request is malformed (headers, query or JSON body).' },
  BAD_PATH: { status: 400, description: 'The path breaks the path rule (docs/API.md §Paths).' },
  DELTA_MALFORMED: { status: 400, description: 'The delta body is not a valid delta (FORMAT.md §Delta).' },
  TRUNCATED_UPLOAD: { status: 400, description: 'The body ended before its declared length or the delta ended early.' },
  UNAUTHORIZED: { status: 401, description: 'Missing, unknown, revoked or expired token.' },
  FORBIDDEN: { status: 403, description: 'The token is read-only and the route writes.' },
  NOT_FOUND: { status: 404, description: 'No such file or folder.' },
  VERSION_NOT_FOUND: { status: 404, description: 'No such version: unknown id, not of that path, nothing there at that time, or pruned.' },
  BASE_MISMATCH: {
    status: 412,
    description: 'A precondition failed: If-Match names a version the server no longer holds, or a create-only write met other content; nothing changed. Body has currentHash and current (the entry there now) when something is there.',
  },
  PARENT_CHANGED: {
    status: 412,
    description: 'A folder on the way to the path was moved or removed after x-deltabox-since; nothing changed. Body has the journal record: pull the changes, then retry at the new place.',
  },
  ALREADY_EXISTS: { status: 409, description: 'A move onto an existing path without overwrite (or onto a folder).' },
  MOVED_ELSEWHERE: {
    status: 409,
    description: 'A revive (a move from a path deleted on the server) of a file another device already brought back at another path; nothing changed. Body has current: that file where it is now.',
  },
  TYPE_CONFLICT: { status: 409, description: 'A file is where a folder is needed, or the other way round.' },
  UPLOAD_OFFSET_MISMATCH: { status: 409, description: 'A PATCH to an upload session did not start at its acknowledged offset (or another PATCH is running); nothing changed.' },
  TOO_MANY_UPLOADS: { status: 409, description: 'The token already holds the most open upload sessions allowed; finish or DELETE one, or upload with PUT.' },
  PAYLOAD_TOO_LARGE: { status: 413, description: 'Body, part or decoded delta field is over its limit.' },
  RANGE_NOT_SATISFIABLE: { status: 416, description: 'The Range header does not fit the file.' },
  HASH_MISMATCH: { status: 422, description: 'The written result does not have the declared hash; nothing changed.' },
  CHECKSUM_MISMATCH: { status: 460, description: 'The PATCH body does not match its Upload-Checksum; the chunk was dropped and the offset did not move.' },
  RATE_LIMITED: { status: 429, description: 'Too many failed authentications from this address.' },
  INTERNAL: { status: 500, description: 'Unexpected server error; nothing partial is visible.' },
  INSUFFICIENT_STORAGE: { status: 507, description: 'The disk is full; the old version is intact.' },
  STORAGE_DENIED: { status: 507, description: "The server's folder refused the write (permission denied, read-only filesystem); nothing changed." },
} as const;

export type ApiErrorCode = keyof typeof errorCatalogue;

export function statusOf(code: ApiErrorCode): number {
  return errorCatalogue[code].status;
}
