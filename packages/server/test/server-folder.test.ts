import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp, createToken, listTokens, revokeToken, ServerFolderError } from '../src/index.js';

function tempBase(t: Tap.Test): string {
  const base = mkdtempSync(join(tmpdir(), 'dbx-sfolder-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  return base;
}

/** What a scanner leaves in a client folder: `.deltabox/state.sqlite`. */
function makeClientFolder(dir: string): void {
  mkdirSync(join(dir, '.deltabox'), { recursive: true });
  writeFileSync(join(dir, '.deltabox', 'state.sqlite'), '');
}

async function refusal(t: Tap.Test, promise: Promise<unknown>, code: string): Promise<ServerFolderError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof ServerFolderError, `refused with a ServerFolderError (${String(err)})`);
  t.equal((err as ServerFolderError).code, code);
  return err as ServerFolderError;
}

t.test('the client state file name is the one the scanner uses', async (t) => {
  const scannerConstants = readFileSync(fileURLToPath(new URL('../../scanner/src/constants.ts', import.meta.url)), 'utf8');
  t.match(scannerConstants, /STATE_DB_FILE = 'state\.sqlite'/);
});

t.test('refuses a folder inside a client folder, also reached through a symlink, creating nothing', async (t) => {
  const base = tempBase(t);
  makeClientFolder(join(base, 'same'));
  writeFileSync(join(base, 'same', 'precious.txt'), 'precious');
  symlinkSync(join(base, 'same'), join(base, 'samelink'));
  const err = await refusal(t, buildApp({ sdir: join(base, 'samelink', 'sub') }), 'CLIENT_FOLDER_NESTED');
  t.match(err.message, /lies inside the deltabox client folder .*same/);
  t.same(readdirSync(join(base, 'same')).sort(), ['.deltabox', 'precious.txt'], 'sub was not created');
  mkdirSync(join(base, 'same', 'deep', 'er'), { recursive: true });
  await refusal(t, buildApp({ sdir: join(base, 'samelink', 'deep', 'er') }), 'CLIENT_FOLDER_NESTED');
  t.notOk(existsSync(join(base, 'same', 'deep', 'er', '.deltabox')), 'no state folder was made');
});

t.test('refuses a folder that is itself a client folder', async (t) => {
  const base = tempBase(t);
  makeClientFolder(join(base, 'c'));
  const err = await refusal(t, buildApp({ sdir: join(base, 'c') }), 'CLIENT_FOLDER_NESTED');
  t.match(err.message, /is itself a deltabox client folder/);
  t.same(readdirSync(join(base, 'c', '.deltabox')), ['state.sqlite'], 'no server state was added');
});

t.test('refuses a folder that contains a client folder, found while indexing, deleting nothing', async (t) => {
  const base = tempBase(t);
  const sdir = join(base, 's');
  mkdirSync(join(sdir, 'a'), { recursive: true });
  writeFileSync(join(sdir, 'a', 'keep.txt'), 'keep');
  makeClientFolder(join(sdir, 'a', 'b', 'client'));
  const err = await refusal(t, buildApp({ sdir }), 'CLIENT_FOLDER_NESTED');
  t.match(err.message, /contains the deltabox client folder .*a\/b\/client/);
  t.equal(readFileSync(join(sdir, 'a', 'keep.txt'), 'utf8'), 'keep');
  t.ok(existsSync(join(sdir, 'a', 'b', 'client', '.deltabox', 'state.sqlite')));
  // The lock was released: once the client folder is gone the server starts.
  rmSync(join(sdir, 'a', 'b'), { recursive: true });
  const app = await buildApp({ sdir });
  await app.close();
});

t.test('a second server on the same folder is refused; the first one closing frees the folder', async (t) => {
  const base = tempBase(t);
  const sdir = join(base, 's');
  const first = await buildApp({ sdir });
  const err = await refusal(t, buildApp({ sdir: join(base, '.', 's') }), 'FOLDER_IN_USE');
  t.match(err.message, new RegExp(`another deltabox server \\(pid ${process.pid}\\) is already serving`));
  t.equal(createToken(sdir, { name: 'beside-a-server' }).length > 0, true, 'token commands still work beside a server');
  await first.close();
  const second = await buildApp({ sdir });
  await second.close();
});

t.test('the lock of a SIGKILLed server is taken over', async (t) => {
  const base = tempBase(t);
  const sdir = join(base, 's');
  const src = fileURLToPath(new URL('../src/index.ts', import.meta.url));
  const script = `const { buildApp } = await import(${JSON.stringify(src)}); await buildApp({ sdir: ${JSON.stringify(sdir)} }); process.stdout.write('ready\\n'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import=tsx', '--conditions=deltabox-src', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`the child server exited (${code}) before it was ready`)));
  });
  await refusal(t, buildApp({ sdir }), 'FOLDER_IN_USE');
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  const app = await buildApp({ sdir });
  t.pass('taken over after SIGKILL');
  await app.close();
});

t.test('a file as the served folder is refused by name, changing nothing', async (t) => {
  const base = tempBase(t);
  writeFileSync(join(base, 'afile'), 'x');
  const err = await refusal(t, buildApp({ sdir: join(base, 'afile') }), 'NOT_A_FOLDER');
  t.match(err.message, /afile is not a folder/);
  await refusal(t, buildApp({ sdir: join(base, 'afile', 'sub') }), 'NOT_A_FOLDER');
  t.equal(readFileSync(join(base, 'afile'), 'utf8'), 'x');
});

t.test('listing or revoking tokens never creates the folder or its state', async (t) => {
  const base = tempBase(t);
  await refusal(t, Promise.resolve().then(() => listTokens(join(base, 'typo'))), 'NO_SUCH_FOLDER');
  t.notOk(existsSync(join(base, 'typo')), 'the folder was not created');
  mkdirSync(join(base, 'plain'));
  await refusal(t, Promise.resolve().then(() => revokeToken(join(base, 'plain'), 'x')), 'NOT_SERVED');
  t.same(readdirSync(join(base, 'plain')), [], 'no state folder was created');
});
