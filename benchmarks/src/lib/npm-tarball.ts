/**
 * Real inputs from the npm registry: `npm pack name@version` into a download cache, the tarball checked against
 * an integrity hash pinned here (and against the one npm reports), so the bytes are the same on every machine.
 * Also gunzips a tarball to its plain tar, and pulls one member out of it, streaming.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

/** One npm package version, pinned by the registry's integrity string (`dist.integrity`, SHA-512). */
export interface PinnedTarball {
  name: string;
  version: string;
  integrity: string;
}

/** The tarballs the real pairs are made from; integrity strings as the registry published them. */
export const TARBALLS = {
  typescript554: { name: 'typescript', version: '5.5.4', integrity: 'sha512-Mtq29sKDAEYP7aljRgtPOpTvOfbwRWlS6dPRzwjdE+C0R4brX/GUyhHSecbHMFLNBLcJIPt9nl9yG5TZ1weH+Q==' },
  typescript562: { name: 'typescript', version: '5.6.2', integrity: 'sha512-NW8ByodCSNCwZeghjN3o+JX5OFH0Ojg6sadjEKY4huZ52TqbJTJnDo5+Tw98lSy63NZvi4n+ez5m2u5d4PkZyw==' },
  typescript563: { name: 'typescript', version: '5.6.3', integrity: 'sha512-hjcS1mhfuyi4WW8IWtjP7brDrG2cuDZukyrYrSauoXGNgx0S7zceP07adYkJycEr56BOUTNPzbInooiN3fn1qw==' },
  spdxLicenseList: { name: 'spdx-license-list', version: '6.9.0', integrity: 'sha512-L2jl5vc2j6jxWcNCvcVj/BW9A8yGIG02Dw+IUw0ZxDM70f7Ylf5Hq39appV1BI9yxyWQRpq2TQ1qaXvf+yjkqA==' },
  betterSqlite3: { name: 'better-sqlite3', version: '12.6.2', integrity: 'sha512-8VYKM3MjCa9WcaSAI3hzwhmyHVlH8tiGFwf0RlTsZPWJ1I5MkzjiudCo4KC4DxOaL/53A5B1sI/IbldNFDbsKA==' },
} as const satisfies Record<string, PinnedTarball>;

/** SHA-512 of a file as an npm/SRI integrity string, read streaming. */
export async function fileIntegrity(path: string): Promise<string> {
  const hash = createHash('sha512');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return `sha512-${hash.digest('base64')}`;
}

/**
 * The tarball of `pin` in `downloadDir`, fetched with `npm pack` when missing. Throws, naming both hashes, when
 * the file's SHA-512 differs from the pinned integrity or npm reports a different one: a changed input must never
 * pass for the pinned one.
 */
export async function fetchTarball(pin: PinnedTarball, downloadDir: string): Promise<string> {
  mkdirSync(downloadDir, { recursive: true });
  const path = join(downloadDir, `${pin.name}-${pin.version}.tgz`);
  if (existsSync(path) && (await fileIntegrity(path)) === pin.integrity) return path;
  rmSync(path, { force: true });
  const spec = `${pin.name}@${pin.version}`;
  const packed = spawnSync('npm', ['pack', spec, '--json', '--pack-destination', downloadDir], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (packed.error || packed.status !== 0) {
    throw new Error(`npm pack ${spec} failed (${packed.error?.message ?? `exit ${packed.status}`}): ${(packed.stderr ?? '').trim().split('\n').slice(-3).join(' ')}`);
  }
  const reported = (JSON.parse(packed.stdout) as { integrity?: string; filename?: string }[])[0];
  if (reported?.integrity !== pin.integrity) throw new Error(`npm pack ${spec}: npm reports integrity ${reported?.integrity}, pinned ${pin.integrity}`);
  const written = join(downloadDir, reported.filename ?? '');
  if (written !== path) renameSync(written, path);
  const actual = await fileIntegrity(path);
  if (actual !== pin.integrity) {
    rmSync(path, { force: true });
    throw new Error(`${spec}: the tarball's SHA-512 is ${actual}, pinned ${pin.integrity}`);
  }
  return path;
}

/** Gunzips `tgz` to `tarPath` (the package as one uncompressed tar), streaming. */
export async function gunzipTo(tgz: string, tarPath: string): Promise<void> {
  await pipeline(createReadStream(tgz, { highWaterMark: 1 << 20 }), createGunzip(), createWriteStream(tarPath));
}

/** Extracts one member of a .tgz (e.g. `package/deps/sqlite3/sqlite3.c`) into `dir`, with the system tar. */
export function extractMember(tgz: string, member: string, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('tar', ['-xzf', tgz, '-C', dir, member], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`tar -xzf ${tgz} ${member} failed: ${r.error?.message ?? r.stderr.trim()}`);
  return join(dir, member);
}
