/** `run` refuses client and server folders that overlap, judged on real paths (issue 9, item 1). */
import t from 'tap';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertSeparateFolders, realPathOf } from '../src/folder-overlap.js';
import { tempDir } from './helpers/harness.js';
import { spawnCli, type Child } from './helpers/child.js';

/** The exit code of `child`, or a failure (after killing it) when it is still running at the deadline. */
async function exitCodeWithin(child: Child, timeoutMs: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const outcome = await Promise.race([child.exited, deadline]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    child.proc.kill('SIGKILL');
    await child.exited;
    throw new Error(`still running after ${timeoutMs} ms (it accepted the folders): ${child.stderr()}`);
  }
  return outcome.code;
}

t.test('run refuses a client folder inside the server folder through a symlink, and deletes nothing', async (t) => {
  const base = tempDir(t);
  mkdirSync(join(base, 'same/sub'), { recursive: true });
  writeFileSync(join(base, 'same/precious.txt'), 'precious');
  symlinkSync(join(base, 'same'), join(base, 'samelink'));
  const child = spawnCli(['run', '--cdir', join(base, 'samelink/sub'), '--sdir', join(base, 'same'), '--port', '0', '--interval', '1s']);
  t.equal(await exitCodeWithin(child, 15_000), 2, 'a usage error');
  t.match(child.stderr(), /^deltabox: --cdir .*samelink\/sub \(.*same\/sub\) and --sdir .* overlap: the client folder is inside the server folder/);
  t.equal(readFileSync(join(base, 'same/precious.txt'), 'utf8'), 'precious', 'the server folder keeps its files');
  t.ok(existsSync(join(base, 'same/sub')), 'the client folder is still there');
});

t.test('overlap is judged on real paths, either way round, also for folders not created yet', async (t) => {
  const base = tempDir(t);
  mkdirSync(join(base, 'real/a'), { recursive: true });
  symlinkSync(join(base, 'real'), join(base, 'link'));
  writeFileSync(join(base, 'afile'), 'x');
  const refused = (cdir: string, sdir: string) => t.throws(() => assertSeparateFolders(join(base, cdir), join(base, sdir)),
    { exitCode: 2 }, `--cdir ${cdir} --sdir ${sdir} is refused`);
  refused('link/a', 'real');
  refused('real', 'link/a');
  refused('link', 'real');
  refused('real/a', 'real/a');
  refused('link/new/deeper', 'real/new');
  refused('real/new', 'link/new/deeper');
  refused('link/a/../a', 'real');
  const accepted = (cdir: string, sdir: string) => t.doesNotThrow(() => assertSeparateFolders(join(base, cdir), join(base, sdir)),
    `--cdir ${cdir} --sdir ${sdir} is accepted`);
  accepted('link/a', 'real/b');
  accepted('real/ab', 'real/a');
  accepted('new/client', 'new/server');
  t.equal(realPathOf(join(base, 'link/a/../x/y'), '--cdir'), join(realPathOf(base, '--cdir'), 'real/x/y'), '`..` after a symlink is the target\'s parent');
});

t.test('a path through a file or a broken symlink is bad input', async (t) => {
  const base = tempDir(t);
  writeFileSync(join(base, 'afile'), 'x');
  symlinkSync(join(base, 'missing'), join(base, 'broken'));
  for (const path of ['afile', 'afile/sub', 'broken/sub']) {
    t.throws(() => assertSeparateFolders(join(base, path), join(base, 'server')), { name: 'CliError', exitCode: 3, message: /is a file, not a folder|is a broken symlink/ },
      `${path} is refused as bad input`);
  }
});
