/**
 * The real-data pairs of the core benchmark (basis -> target, data no one here wrote), built deterministically
 * and cached outside git: `<data dir>/pairs/<id>/{basis,target}.<ext>` plus `pair.json` (sizes, SHA-256, what the
 * pair is), downloads in `<data dir>/downloads/`. A pair is reused when its pair.json matches the recipe and both
 * files still hash to what it records; pair.json is written last, so an interrupted build is redone.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BINARY_CHANGE, buildBinaryPair, gccVersion } from './binary-pair.js';
import { extractMember, fetchTarball, gunzipTo, TARBALLS, type PinnedTarball } from './npm-tarball.js';
import { hashFile } from './seeded-data.js';
import { buildSqlitePair } from './sqlite-pair.js';
import { buildTextPair } from './text-pair.js';

/** Default cache: survives between runs, outside the repository. */
export const DEFAULT_DATA_DIR = join(tmpdir(), 'deltabox-bench-data');
const SEED = 'deltabox-real-pairs-v1';

/** One built pair, as pair.json records it. */
export interface RealPair {
  id: string;
  /** One line for the report: what changed between basis and target. */
  description: string;
  /** Bumped when the way the pair is made changes, so old caches are rebuilt. */
  recipe: string;
  basis: string;
  target: string;
  basisBytes: number;
  targetBytes: number;
  basisSha256: string;
  targetSha256: string;
  /** Inputs and tools it came from (tarball integrity, gcc version, edit counts). */
  source: Record<string, unknown>;
}

interface PairRecipe {
  id: string;
  recipe: string;
  ext: string;
  /** Writes basis and target; returns the description and the source details. */
  build(basis: string, target: string, downloads: string, work: string): Promise<{ description: string; source: Record<string, unknown> }>;
}

function npmReleasePair(id: string, from: PinnedTarball, to: PinnedTarball, kind: string): PairRecipe {
  return {
    id,
    recipe: `${id}:1`,
    ext: 'tar',
    async build(basis, target, downloads) {
      await gunzipTo(await fetchTarball(from, downloads), basis);
      await gunzipTo(await fetchTarball(to, downloads), target);
      return { description: `${from.name} ${from.version} -> ${to.version} (${kind} release), npm pack tarballs unpacked to tar`, source: { from, to } };
    },
  };
}

/** Every real pair, in report order. */
export const PAIR_RECIPES: readonly PairRecipe[] = [
  npmReleasePair('npm-patch-release', TARBALLS.typescript562, TARBALLS.typescript563, 'patch'),
  npmReleasePair('npm-minor-release', TARBALLS.typescript554, TARBALLS.typescript562, 'minor'),
  {
    id: 'sqlite-updates',
    recipe: 'sqlite-updates:1',
    ext: 'sqlite',
    async build(basis, target) {
      const batch = buildSqlitePair(basis, target, SEED);
      const description = `SQLite database before/after a seeded batch (${batch.balancesUpdated} balances, ${batch.notesRewritten} notes updated, ${batch.ordersInserted} orders inserted, ${batch.ordersDeleted} deleted)`;
      return { description, source: { betterSqlite3: '12.6.2', seed: SEED, batch } };
    },
  },
  {
    id: 'text-paragraphs',
    recipe: 'text-paragraphs:1',
    ext: 'txt',
    async build(basis, target, downloads, work) {
      const tgz = await fetchTarball(TARBALLS.spdxLicenseList, downloads);
      const edits = buildTextPair(extractMember(tgz, 'package/spdx-full.json', work), basis, target, SEED);
      const description = `SPDX license texts as one document, ${edits.inserted} paragraphs inserted, ${edits.deleted} deleted, ${edits.moved} moved (of ${edits.paragraphs})`;
      return { description, source: { tarball: TARBALLS.spdxLicenseList, seed: SEED, edits } };
    },
  },
  {
    id: 'binary-rebuild',
    recipe: 'binary-rebuild:1',
    ext: 'so',
    async build(basis, target, downloads, work) {
      const gcc = gccVersion();
      if (!gcc) throw new Error('gcc is not installed (apt-get install -y gcc): the binary pair compiles SQLite with it');
      const tgz = await fetchTarball(TARBALLS.betterSqlite3, downloads);
      await buildBinaryPair(extractMember(tgz, 'package/deps/sqlite3/sqlite3.c', work), basis, target);
      const description = `SQLite ${'3.51.2'} shared library (gcc -O2) rebuilt with ${BINARY_CHANGE.name} ${BINARY_CHANGE.before} -> ${BINARY_CHANGE.after}`;
      return { description, source: { tarball: TARBALLS.betterSqlite3, gcc, change: BINARY_CHANGE } };
    },
  },
];

/** Ids of every pair, for validating `--pairs`. */
export const PAIR_IDS: readonly string[] = PAIR_RECIPES.map((r) => r.id);

/** A pair that could not be built (no gcc, no npm registry, ...), with the reason, for the report. */
export interface SkippedPair {
  id: string;
  reason: string;
}

/**
 * The pairs named by `ids` (all when undefined), built into `dataDir` or reused from it. `log` gets one line per
 * pair built. A pair that cannot be built is left out and listed in `skipped` with its cause; the rest go on.
 */
export async function ensureRealPairs(dataDir: string, ids: readonly string[] | undefined, log: (line: string) => void): Promise<{ pairs: RealPair[]; skipped: SkippedPair[] }> {
  const downloads = join(dataDir, 'downloads');
  const pairs: RealPair[] = [];
  const skipped: SkippedPair[] = [];
  for (const recipe of PAIR_RECIPES.filter((r) => !ids || ids.includes(r.id))) {
    const dir = join(dataDir, 'pairs', recipe.id);
    const cached = readCached(dir, recipe.recipe);
    if (cached) {
      pairs.push(cached);
      continue;
    }
    log(`building real pair ${recipe.id} in ${dir} ...`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const basis = join(dir, `basis.${recipe.ext}`);
    const target = join(dir, `target.${recipe.ext}`);
    const work = join(dataDir, 'work', recipe.id);
    let built;
    try {
      built = await recipe.build(basis, target, downloads, work);
    } catch (e) {
      const reason = (e as Error).message;
      log(`  real pair ${recipe.id} NOT BUILT: ${reason}`);
      skipped.push({ id: recipe.id, reason });
      continue;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    const b = hashFile(basis);
    const t = hashFile(target);
    const pair: RealPair = { id: recipe.id, recipe: recipe.recipe, basis, target, basisBytes: b.length, targetBytes: t.length, basisSha256: b.sha256, targetSha256: t.sha256, ...built };
    writeFileSync(join(dir, 'pair.json'), `${JSON.stringify(pair, null, 2)}\n`);
    log(`  ${recipe.id}: ${b.length} -> ${t.length} bytes`);
    pairs.push(pair);
  }
  return { pairs, skipped };
}

function readCached(dir: string, recipe: string): RealPair | undefined {
  const file = join(dir, 'pair.json');
  if (!existsSync(file)) return undefined;
  try {
    const pair = JSON.parse(readFileSync(file, 'utf8')) as RealPair;
    if (pair.recipe !== recipe) return undefined;
    if (hashFile(pair.basis).sha256 !== pair.basisSha256 || hashFile(pair.target).sha256 !== pair.targetSha256) return undefined;
    return pair;
  } catch {
    return undefined; // a missing or unreadable file: build the pair again
  }
}
