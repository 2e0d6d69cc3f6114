import t from 'tap';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';

const cli = fileURLToPath(new URL('./fixtures/main.ts', import.meta.url));

function run(args: string[], input?: Buffer): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import=tsx', '--conditions=deltabox-src', cli, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    p.stdout.on('data', (d) => out.push(d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
    if (input) p.stdin.end(input);
    else p.stdin.end();
  });
}

async function sha(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c);
  return h.digest('hex');
}

const dir = await mkdtemp(join(tmpdir(), 'deltabox-cli-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const p = (name: string) => join(dir, name);

t.test('signature, delta and patch round-trip real files in both delta modes', async (t) => {
  const basis = randomBytes(2_000_000);
  const target = Buffer.concat([basis.subarray(0, 700_000), Buffer.from('inserted'), basis.subarray(700_100)]);
  writeFileSync(p('a'), basis);
  writeFileSync(p('b'), target);
  t.equal((await run(['signature', p('a'), p('a.sig')])).code, 0);
  t.equal((await run(['delta', p('a.sig'), p('b'), p('ab.delta')])).code, 0);
  t.equal((await run(['delta', '--basis', p('a'), p('a.sig'), p('b'), p('ab-exact.delta')])).code, 0);
  t.ok(readFileSync(p('ab-exact.delta')).length < 200, 'byte-exact delta is tiny');
  for (const d of ['ab.delta', 'ab-exact.delta']) {
    t.equal((await run(['patch', p('a'), p(d), p(`out-${d}`)])).code, 0);
    t.ok(readFileSync(p(`out-${d}`)).equals(target), `${d} patches to the target`);
  }
});

t.test('- reads stdin and writes stdout', async (t) => {
  const basis = randomBytes(300_000);
  writeFileSync(p('s1'), basis);
  const sig = await run(['signature', '--block-size', '512', '-', '-'], basis);
  t.equal(sig.code, 0);
  writeFileSync(p('s1.sig'), sig.stdout);
  const target = Buffer.concat([basis, Buffer.from('tail')]);
  const delta = await run(['delta', p('s1.sig'), '-', '-'], target);
  t.equal(delta.code, 0);
  const out = await run(['patch', p('s1'), '-', '-'], delta.stdout);
  t.equal(out.code, 0);
  t.ok(out.stdout.equals(target));
});

t.test('an existing output is replaced atomically, and a failure leaves no output behind', async (t) => {
  writeFileSync(p('x'), randomBytes(100_000));
  writeFileSync(p('y'), randomBytes(100_001));
  writeFileSync(p('x.sig'), 'old content');
  t.equal((await run(['signature', p('x'), p('x.sig')])).code, 0);
  t.not(readFileSync(p('x.sig'), 'latin1'), 'old content');
  t.equal((await run(['delta', p('x.sig'), p('y'), p('xy.delta')])).code, 0);
  // Patch against the wrong basis: a length mismatch, no output file, one-line message, exit 3.
  const bad = await run(['patch', p('y'), p('xy.delta'), p('never')]);
  t.equal(bad.code, 3);
  t.equal(bad.stderr.trim().split('\n').length, 1, 'one line');
  t.match(bad.stderr, /basis/);
  t.notOk(existsSync(p('never')));
  // A corrupted delta: a typed format error, still nothing written.
  const corrupt = readFileSync(p('xy.delta'));
  corrupt[0] = 0;
  writeFileSync(p('corrupt.delta'), corrupt);
  const c = await run(['patch', p('x'), p('corrupt.delta'), p('never2')]);
  t.equal(c.code, 3);
  t.match(c.stderr, /bad magic/);
  t.notOk(existsSync(p('never2')));
  // A delta whose hash lies: the whole output is produced, then refused; no file appears.
  const lying = readFileSync(p('xy.delta'));
  lying[lying.length - 1] ^= 1;
  writeFileSync(p('lying.delta'), lying);
  const l = await run(['patch', p('x'), p('lying.delta'), p('never3')]);
  t.equal(l.code, 3);
  t.notOk(existsSync(p('never3')));
  t.same(readdirSync(dir).filter((f) => f.includes('deltabox-tmp')), [], 'no temp files left');
  const missing = await run(['signature', p('does-not-exist'), p('z.sig')]);
  t.equal(missing.code, 3);
  t.notMatch(missing.stderr, /\n\s+at /, 'no stack trace');
  const usage = await run(['signature', '--block-size', 'abc', p('x'), p('z.sig')]);
  t.equal(usage.code, 2);
});

t.test('a file larger than 100 MiB round-trips through the CLI, checked by hash', async (t) => {
  const size = 110 * 2 ** 20;
  const ws = createWriteStream(p('big'));
  const block = randomBytes(1 << 20);
  for (let i = 0; i < size / block.length; i++) {
    block.writeUInt32LE(i, 0); // every MiB distinct
    if (!ws.write(Buffer.from(block))) await once(ws, 'drain');
  }
  await new Promise((r) => ws.end(r));
  const big = readFileSync(p('big'));
  big.write('EDIT', 50 * 2 ** 20);
  writeFileSync(p('big2'), Buffer.concat([big.subarray(0, 90 * 2 ** 20), Buffer.from('insert'), big.subarray(90 * 2 ** 20)]));
  t.equal((await run(['signature', p('big'), p('big.sig')])).code, 0);
  t.equal((await run(['delta', '--basis', p('big'), p('big.sig'), p('big2'), p('big.delta')])).code, 0);
  t.ok(readFileSync(p('big.delta')).length < 4096, 'delta of a 4-byte edit and a 6-byte insert is small');
  t.equal((await run(['patch', p('big'), p('big.delta'), p('big.out')])).code, 0);
  t.equal(await sha(p('big.out')), await sha(p('big2')));
});

t.test('bad input is named plainly: output paths, folders, byte counts, other tools\' files', async (t) => {
  writeFileSync(p('bi'), 'some basis bytes\n');
  const noFolder = await run(['signature', p('bi'), p('missing/out.sig')]);
  t.equal(noFolder.code, 3);
  t.match(noFolder.stderr, `cannot write ${p('missing/out.sig')}`, 'the error names the output path');
  t.notMatch(noFolder.stderr, 'deltabox-tmp', 'not the temp file beside it');
  t.equal((await run(['signature', p('bi'), p('bi.sig')])).code, 0);
  const folder = await run(['delta', '--basis', dir, p('bi.sig'), p('bi'), p('bi.delta')]);
  t.equal(folder.code, 3);
  t.match(folder.stderr, `${dir} is a folder`, 'a folder as the basis is called a folder');
  for (const bad of ['1e3', '0x100', '1.5']) {
    const r = await run(['signature', '--block-size', bad, p('bi'), p('bad.sig')]);
    t.equal(r.code, 2, `--block-size ${bad} is a usage error`);
  }
  // librsync's magics ("rs" + kind): what rdiff writes, followed by junk.
  writeFileSync(p('r.sig'), Buffer.from([0x72, 0x73, 0x01, 0x47, 0, 0, 8, 0, 0, 0, 0, 32]));
  writeFileSync(p('r.delta'), Buffer.from([0x72, 0x73, 0x02, 0x36, 0x41, 0x03, 0x61, 0x62, 0x63, 0]));
  const rsig = await run(['delta', p('r.sig'), p('bi'), p('x.delta')]);
  t.equal(rsig.code, 3);
  t.match(rsig.stderr, 'rdiff (librsync) signature');
  const rdelta = await run(['patch', p('bi'), p('r.delta'), p('x.out')]);
  t.equal(rdelta.code, 3);
  t.match(rdelta.stderr, 'rdiff (librsync) delta');
});

t.test('patch to stdout of copies that span several basis read pieces gives the target', async (t) => {
  const basis = randomBytes(6 << 20);
  const target = Buffer.concat([basis.subarray(3 << 20), basis.subarray(0, 3 << 20)]);
  writeFileSync(p('st.a'), basis);
  writeFileSync(p('st.b'), target);
  t.equal((await run(['signature', p('st.a'), p('st.sig')])).code, 0);
  t.equal((await run(['delta', '--basis', p('st.a'), p('st.sig'), p('st.b'), p('st.delta')])).code, 0);
  const out = await run(['patch', p('st.a'), p('st.delta'), '-']);
  t.equal(out.code, 0, out.stderr);
  t.ok(out.stdout.equals(target), 'stdout is the target');
});

t.test('a delta of several read chunks, mostly literals, patches to a file and to stdout; a lying one leaves nothing', async (t) => {
  // The delta file (~3 MiB of literals between copies) is read into one reused 1 MiB buffer: literal pieces
  // cross its chunks, and stdout (which may hold a piece) must get copies.
  const basis = randomBytes(2 << 20);
  const target = Buffer.concat([randomBytes(1_500_000), basis.subarray(0, 1 << 20), randomBytes(1_600_000), basis.subarray(1 << 20)]);
  writeFileSync(p('lit.a'), basis);
  writeFileSync(p('lit.b'), target);
  t.equal((await run(['signature', p('lit.a'), p('lit.sig')])).code, 0);
  t.equal((await run(['delta', '--basis', p('lit.a'), p('lit.sig'), p('lit.b'), p('lit.delta')])).code, 0);
  t.ok(readFileSync(p('lit.delta')).length > 3_000_000, 'the delta spans several 1 MiB reads');
  t.equal((await run(['patch', p('lit.a'), p('lit.delta'), p('lit.out')])).code, 0);
  t.ok(readFileSync(p('lit.out')).equals(target), 'file output is the target');
  const out = await run(['patch', p('lit.a'), p('lit.delta'), '-']);
  t.equal(out.code, 0, out.stderr);
  t.ok(out.stdout.equals(target), 'stdout is the target');
  const lying = readFileSync(p('lit.delta'));
  lying[lying.length - 1] ^= 1;
  writeFileSync(p('lit-lying.delta'), lying);
  const l = await run(['patch', p('lit.a'), p('lit-lying.delta'), p('lit.never')]);
  t.equal(l.code, 3);
  t.match(l.stderr, /SHA-256/);
  t.notOk(existsSync(p('lit.never')));
  t.same(readdirSync(dir).filter((f) => f.includes('deltabox-tmp')), [], 'no temp files left');
});
