/**
 * The binary real pair: SQLite's amalgamation (sqlite3.c, from the pinned better-sqlite3 tarball) compiled with
 * the machine's gcc into a shared library twice, the second time with one compile-time constant changed
 * (SQLITE_MAX_EXPR_DEPTH 1000 -> 100: the comparisons against it get shorter immediates, so code after them
 * moves, as in a real small source change). Compiled in the source's folder with a relative name, no debug
 * information and no build id, so the same gcc gives the same bytes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { basename, dirname } from 'node:path';

/** The constant that differs between the two builds. */
export const BINARY_CHANGE = { name: 'SQLITE_MAX_EXPR_DEPTH', before: 1000, after: 100 } as const;

/** First line of `gcc --version`, or undefined when there is no gcc. */
export function gccVersion(): string | undefined {
  const r = spawnSync('gcc', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0]!.trim() : undefined;
}

/** Compiles `sqliteSource` to `basisPath` and `targetPath` (two gcc processes at once). */
export async function buildBinaryPair(sqliteSource: string, basisPath: string, targetPath: string): Promise<void> {
  await Promise.all([
    compile(sqliteSource, basisPath, BINARY_CHANGE.before),
    compile(sqliteSource, targetPath, BINARY_CHANGE.after),
  ]);
}

function compile(source: string, out: string, value: number): Promise<void> {
  const args = ['-O2', '-fPIC', '-shared', '-g0', '-Wl,--build-id=none', `-D${BINARY_CHANGE.name}=${value}`, '-o', out, basename(source), '-lm'];
  return new Promise((resolve, reject) => {
    const child = spawn('gcc', args, { cwd: dirname(source), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => reject(new Error(`gcc could not start: ${e.message}`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`gcc ${args.join(' ')} exited with ${code}: ${stderr.trim().slice(-500)}`))));
  });
}
