/** `serve` and `token` refuse a wrong server folder with a clear message and a usage exit, creating nothing. */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/harness.js';

const mainModule = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/** Runs the real `deltabox` entry point (src/main.ts under tsx) and collects its exit code and stderr. */
function deltabox(args: string[]): { exited: Promise<{ code: number | null }>; stderr: () => string } {
  const script = `const { main } = await import(${JSON.stringify(mainModule)}); process.exitCode = await main(['node', 'deltabox', ...process.argv.slice(1)]);`;
  const proc = spawn(process.execPath, ['--import=tsx', '--conditions=deltabox-src', '--input-type=module', '-e', script, '--', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr.on('data', (d) => (err += String(d)));
  return { exited: new Promise((resolve) => proc.on('exit', (code) => resolve({ code }))), stderr: () => err };
}

t.test('serve refuses a folder inside a client folder (through a symlink) and a file, with exit 2', async (t) => {
  const base = tempDir(t);
  mkdirSync(join(base, 'same', '.deltabox'), { recursive: true });
  writeFileSync(join(base, 'same', '.deltabox', 'state.sqlite'), '');
  writeFileSync(join(base, 'afile'), 'x');
  symlinkSync(join(base, 'same'), join(base, 'samelink'));
  const nested = deltabox(['serve', '--sdir', join(base, 'samelink', 'sub'), '--port', '0']);
  const file = deltabox(['serve', '--sdir', join(base, 'afile'), '--port', '0']);
  const typo = deltabox(['token', 'list', '--sdir', join(base, 'typo')]);
  t.equal((await nested.exited).code, 2, 'nested: usage exit');
  t.match(nested.stderr(), /lies inside the deltabox client folder/);
  t.notOk(existsSync(join(base, 'same', 'sub')), 'nothing created inside the client folder');
  t.equal((await file.exited).code, 2, 'a file: usage exit');
  t.match(file.stderr(), /afile is not a folder/);
  t.notMatch(file.stderr(), /EEXIST/);
  t.equal((await typo.exited).code, 2, 'token list on a missing folder: usage exit');
  t.match(typo.stderr(), /typo does not exist/);
  t.same(readdirSync(base).sort(), ['afile', 'same', 'samelink'], 'token list created nothing');
});
