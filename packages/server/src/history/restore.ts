/**
 * Restores: a file to a past version (by id or as of a time), optionally to a new path, and a folder as of
 * a time. A restore is a new write through Mirror.commit: a new revision in the journal that every device
 * hears of, and the content it replaces is versioned in turn. The version object is pinned while it is
 * read, so pruning cannot remove it mid-restore.
 */
import type { ManifestEntry, RestoreResponse } from '@deltabox/protocol';
import { ApiError, toApiError } from '../api-error.js';
import type { Mirror } from '../mirror.js';
import type { ReadHandle } from '../storage/storage.js';
import type { StoredVersion } from '../state/version-table.js';

/** Which version: exactly one of the two. */
export type VersionSelector = { versionId: number } | { at: number };

/** What a restore writes: a version's bytes and metadata. */
interface Source {
  hash: string;
  mtimeMs: number;
  executable: boolean;
  open: () => Promise<ReadHandle>;
}

function fromVersion(mirror: Mirror, v: StoredVersion): Source {
  return { hash: v.hash, mtimeMs: v.mtimeMs, executable: v.executable, open: () => mirror.keeper.open(v.hash) };
}

/** @throws ApiError VERSION_NOT_FOUND */
function sourceOf(mirror: Mirror, path: string, sel: VersionSelector): Source {
  if ('versionId' in sel) {
    const v = mirror.versions.get(sel.versionId);
    // A version of this path, or of the file now here before it was moved here (its history follows it).
    if (!v || !mirror.versions.inHistoryOf(path, v.id)) throw new ApiError('VERSION_NOT_FOUND', `'${path}' has no version ${sel.versionId}`);
    return fromVersion(mirror, v);
  }
  const past = mirror.versions.asOf(path, sel.at);
  if (past) return fromVersion(mirror, past);
  const current = mirror.index.get(path);
  if (current?.type === 'file' && current.hash && mirror.versions.sinceOf(current.revision) <= sel.at) {
    const hash = current.hash;
    const open = async (): Promise<ReadHandle> => {
      const { handle, entry } = await mirror.openFile(path);
      if (entry.hash === hash) return handle;
      await handle.close();
      throw new ApiError('BASE_MISMATCH', `'${path}' changed while the restore started; try again`, entry.hash ? { currentHash: entry.hash } : {});
    };
    return { hash, mtimeMs: current.mtimeMs, executable: current.executable ?? false, open };
  }
  throw new ApiError('VERSION_NOT_FOUND', `'${path}' has no version as of ${new Date(sel.at).toISOString()}`);
}

async function write(mirror: Mirror, target: string, src: Source, device: string | undefined): Promise<ManifestEntry> {
  const now = mirror.index.get(target);
  if (now?.type === 'file' && now.hash === src.hash) return now; // already that content: nothing to write
  const handle = await src.open();
  const staged = await mirror.storage.stage();
  try {
    for await (const chunk of handle.stream()) await staged.write(chunk as Uint8Array);
    const opts = { mtimeMs: src.mtimeMs, executable: src.executable, expectedHash: src.hash, ...(device === undefined ? {} : { device }) };
    return await mirror.commit(target, staged, opts);
  } finally {
    await staged.discard();
  }
}

/**
 * Restores `path` to the selected version at `to` (default `path`).
 * @throws ApiError VERSION_NOT_FOUND, TYPE_CONFLICT (a folder at the target), HASH_MISMATCH (a damaged object)
 */
export async function restoreFile(mirror: Mirror, path: string, sel: VersionSelector, to: string | undefined, device?: string): Promise<ManifestEntry> {
  return write(mirror, to ?? path, sourceOf(mirror, path, sel), device);
}

/**
 * Restores every file under folder `dir` ('' for all) that existed at `at` and differs now. Files created
 * since are left alone (a restore never deletes). Each file succeeds or fails on its own.
 */
export async function restoreFolder(mirror: Mirror, dir: string, at: number, device?: string): Promise<RestoreResponse> {
  const restored: ManifestEntry[] = [];
  const failed: NonNullable<RestoreResponse['failed']> = [];
  for (const v of mirror.versions.asOfUnder(dir, at)) {
    try {
      const before = mirror.index.get(v.path);
      const entry = await write(mirror, v.path, fromVersion(mirror, v), device);
      if (before?.revision !== entry.revision) restored.push(entry);
    } catch (err) {
      failed.push({ path: v.path, error: toApiError(err).toBody() });
    }
  }
  return failed.length ? { restored, failed } : { restored };
}
