/** Delta version 2 (FORMAT.md §Delta version 2): each decoder obligation, and the byte-exact mode's size. */
import t from 'tap';
import { brotliCompressSync } from 'node:zlib';
import { applyDeltaToBuffer, DeltaDecoder, readDeltaHeader } from '../src/index.js';
import { ByteReader } from '../src/wire/byte-reader.js';
import { ByteWriter } from '../src/wire/byte-writer.js';
import { concat, deltaOf, equalBytes, seededBytes, signatureOf, wordsText } from './helpers/bytes.js';

const HEADER = Uint8Array.of(0x44, 0x42, 0x58, 0x44, 2, 0, 10); // basis length 10

/** A stored stream. */
const stored = (bytes: number[]) => [0, bytes.length, ...bytes];

function decode(bytes: Uint8Array, limits = {}): void {
  const d = new DeltaDecoder(limits);
  d.push(bytes);
  d.finish();
}

/** Header, then one segment of `sequences`/`target` with the given stream bytes, then nothing. */
function segment(sequences: number, target: number, streams: number[]): Uint8Array {
  return new ByteWriter().bytes(HEADER).u8(0x10).varint(sequences).varint(target).bytes(Uint8Array.from(streams)).take();
}

t.test('a version-2 delta decodes into the ops its sequences describe', async (t) => {
  // literal "ab" then copy 3 bytes from basis offset 4; then copy 2 bytes from 4 + 3 + (-1) = 6.
  const body = segment(2, 7, [...stored([2, 3, 0, 2]), ...stored([8, 1]), ...stored([97, 98])]);
  const d = new DeltaDecoder();
  const ops = d.push(body);
  t.same(ops, [
    { type: 'literal', bytes: Uint8Array.of(97, 98) },
    { type: 'copy', offset: 4, length: 3 },
    { type: 'copy', offset: 6, length: 2 },
  ]);
  t.same(readDeltaHeader(body), { basisLength: 10, version: 2 });
});

t.test('the version-2 decoder rejects each malformed structure with its typed error', async (t) => {
  const ok = [...stored([1, 0]), ...stored([]), ...stored([65])];
  const cases: Array<[string, Uint8Array, string, object?]> = [
    ['version 3', Uint8Array.of(0x44, 0x42, 0x58, 0x44, 3, 0, 0), 'FORMAT_UNSUPPORTED_VERSION'],
    ['a byte that is neither a segment nor END', concat([HEADER, Uint8Array.of(0x01)]), 'FORMAT_CORRUPT'],
    ['zero sequences', segment(0, 1, ok), 'FORMAT_CORRUPT'],
    ['zero target bytes', segment(1, 0, ok), 'FORMAT_CORRUPT'],
    ['more sequences than target bytes', segment(2, 1, ok), 'FORMAT_CORRUPT'],
    ['sequences over the limit', segment(5000, 6000, ok), 'FORMAT_LIMIT_EXCEEDED', { maxSegmentSequences: 4096 }],
    ['segment target over the limit', segment(1, 2 ** 30, ok), 'FORMAT_LIMIT_EXCEEDED', { maxTargetLength: 1 << 20 }],
    ['unknown codec', segment(1, 1, [7, 0]), 'FORMAT_CORRUPT'],
    ['stream over the limit, nothing allocated', segment(1, 1, [0, 0xff, 0xff, 0xff, 0x7f]), 'FORMAT_LIMIT_EXCEEDED'],
    ['Brotli stream of raw length 0', segment(1, 1, [1, 0, 1, 0]), 'FORMAT_CORRUPT'],
    ['Brotli stream not smaller than its raw length', segment(1, 1, [1, 4, 4, 0, 0, 0, 0]), 'FORMAT_LIMIT_EXCEEDED'],
    ['Brotli garbage', segment(1, 1, [1, 40, 3, 1, 2, 3, ...stored([]), ...stored([65])]), 'FORMAT_CORRUPT'],
    ['empty sequence', segment(1, 1, [...stored([0, 0]), ...stored([]), ...stored([65])]), 'FORMAT_CORRUPT'],
    ['sequence takes more literals than remain', segment(1, 2, [...stored([2, 0]), ...stored([]), ...stored([65])]), 'FORMAT_CORRUPT'],
    ['negative copy address', segment(1, 1, [...stored([0, 1]), ...stored([1]), ...stored([])]), 'FORMAT_CORRUPT'],
    ['sequences produce more than the segment', segment(1, 1, [...stored([1, 5]), ...stored([0]), ...stored([65])]), 'FORMAT_CORRUPT'],
    ['sequences produce less than the segment', segment(1, 3, [...stored([1, 0]), ...stored([]), ...stored([65])]), 'FORMAT_CORRUPT'],
    ['lengths stream ends inside a varint', segment(1, 1, [...stored([0x81]), ...stored([]), ...stored([65])]), 'FORMAT_CORRUPT'],
    ['lengths stream with bytes left over', segment(1, 1, [...stored([1, 0, 9]), ...stored([]), ...stored([65])]), 'FORMAT_CORRUPT'],
    ['addresses stream with bytes left over', segment(1, 1, [...stored([1, 0]), ...stored([4]), ...stored([65])]), 'FORMAT_CORRUPT'],
    ['literals stream with bytes left over', segment(1, 1, [...stored([1, 0]), ...stored([]), ...stored([65, 66])]), 'FORMAT_CORRUPT'],
    ['input ends inside a stream', segment(1, 1, [...stored([1, 0]), 0, 5, 1]), 'FORMAT_TRUNCATED'],
    ['input ends before END', segment(1, 1, ok), 'FORMAT_TRUNCATED'],
    ['a literal run over maxLiteralChunk', segment(1, 2, [...stored([2, 0]), ...stored([]), ...stored([65, 66])]), 'FORMAT_LIMIT_EXCEEDED', { maxLiteralChunk: 1 }],
  ];
  for (const [name, bytes, code, limits] of cases) t.throws(() => decode(bytes, limits), { code }, name);
});

t.test('a Brotli stream that would inflate past its declared length is refused (no decompression bomb)', async (t) => {
  const bomb = new Uint8Array(brotliCompressSync(new Uint8Array(50 << 20)));
  t.ok(bomb.length < 100, `50 MiB of zeros in ${bomb.length} bytes`);
  const body = segment(1, 1000, [1, ...new ByteWriter().varint(1000).varint(bomb.length).take(), ...bomb]);
  const rssBefore = process.memoryUsage().rss;
  t.throws(() => decode(body), { code: 'FORMAT_CORRUPT' });
  t.ok(process.memoryUsage().rss - rssBefore < 40 << 20, 'decompression stopped at the declared length');
});

t.test('copies and literals of a version-2 delta are checked against the basis and the hash', async (t) => {
  const basis = seededBytes(4000, 2);
  const target = concat([basis.subarray(0, 3000), seededBytes(50, 4)]);
  const sig = await signatureOf(basis, { blockLength: 256 });
  const { delta } = deltaOf(sig, target, { basis });
  t.ok(equalBytes(await applyDeltaToBuffer(basis, delta), target));
  const flipped = delta.slice();
  flipped[delta.length - 40] ^= 1; // in the literals stream, just before END
  await t.rejects(applyDeltaToBuffer(basis, flipped), { code: 'DELTA_CHECKSUM_MISMATCH' }, 'a flipped literal byte');
  const pastEnd = segment(1, 5, [...stored([0, 5]), ...stored([16]), ...stored([])]); // copy 5 bytes at 8 of 10
  await t.rejects(applyDeltaToBuffer(new Uint8Array(10), pastEnd), { code: 'DELTA_BASIS_MISMATCH' }, 'a copy past the basis');
});

t.test('byte-exact version 2 finds the short matches block matching cannot (dense small edits)', async (t) => {
  // A version string changed every ~300 bytes: blocks of 1 KiB never match whole, so version 1 sends
  // most of the file; the gap matcher copies everything between the edits.
  const basis = wordsText(200_000, 5);
  const target = Buffer.from(basis);
  for (let at = 150; at < target.length; at += 307) target[at] = 0x21;
  const sig = await signatureOf(basis, { blockLength: 1024 });
  const v1 = deltaOf(sig, target, { basis, formatVersion: 1 });
  const v2 = deltaOf(sig, target, { basis });
  t.ok(equalBytes(await applyDeltaToBuffer(basis, v2.delta), target));
  t.ok(v2.stats.literalBytes < 2 * 652, `literals ${v2.stats.literalBytes} bytes for 652 changed bytes`);
  t.ok(v2.delta.length * 4 < v1.delta.length, `version 2 ${v2.delta.length} bytes, version 1 ${v1.delta.length}`);
});

t.test('long literal runs are split into sequences a decoder with a 256 KiB literal limit accepts', async (t) => {
  const basis = seededBytes(5000, 1);
  const target = concat([basis, seededBytes(700_000, 2)]);
  const sig = await signatureOf(basis, { blockLength: 256 });
  for (const exact of [false, true]) {
    const { delta } = deltaOf(sig, target, { basis: exact ? basis : undefined });
    t.ok(equalBytes(await applyDeltaToBuffer(basis, delta, { maxLiteralChunk: 256 * 1024 }), target), exact ? 'byte-exact' : 'signature');
    await t.rejects(applyDeltaToBuffer(basis, delta, { maxLiteralChunk: 1000 }), { code: 'FORMAT_LIMIT_EXCEEDED' }, 'a lower limit refuses them');
  }
});

t.test('a stored literals stream becomes literal ops as its bytes arrive, each copied once', async (t) => {
  // literal "abcde" then copy 2 bytes at 4; literal "fg".
  const body = segment(2, 9, [...stored([5, 2, 2, 0]), ...stored([8]), ...stored([97, 98, 99, 100, 101, 102, 103])]);
  const d = new DeltaDecoder();
  const cut = body.length - 5; // inside the first literal: "ab" has arrived
  const first = body.slice(0, cut);
  t.same(d.push(first), [{ type: 'literal', bytes: Uint8Array.of(97, 98) }], 'the literal bytes that have arrived');
  first.fill(0);
  t.same(d.push(body.subarray(cut, cut + 1)), [{ type: 'literal', bytes: Uint8Array.of(99) }], 'a one-byte piece');
  const rest = d.push(body.subarray(cut + 1));
  t.same(rest, [
    { type: 'literal', bytes: Uint8Array.of(100, 101) },
    { type: 'copy', offset: 4, length: 2 },
    { type: 'literal', bytes: Uint8Array.of(102, 103) },
  ]);
  t.notOk(d.done, 'END not yet read');
  t.same(d.push(Uint8Array.of(0, 9, 1, ...new Uint8Array(32))), [{ type: 'end', targetLength: 9, sha256: new Uint8Array(32) }]);
});

t.test('a segment whose sequences do not fit its streams fails before any of its ops is emitted', async (t) => {
  // The second sequence takes 3 literal bytes where 1 remains: nothing of the first sequence may come out.
  const body = segment(2, 6, [...stored([2, 1, 3, 0]), ...stored([0]), ...stored([97, 98, 99])]);
  const d = new DeltaDecoder();
  t.throws(() => d.push(body.subarray(0, body.length - 3)), { code: 'FORMAT_CORRUPT' }, 'refused at the literals head');
  // A Brotli literals stream of 200 bytes of which the one sequence takes 199: bytes left over.
  const packed = new Uint8Array(brotliCompressSync(new Uint8Array(200).fill(97)));
  const literals = [...new ByteWriter().u8(1).varint(200).varint(packed.length).take(), ...packed];
  const brotli = segment(1, 199, [...stored([0xc7, 0x01, 0]), ...stored([]), ...literals]);
  t.throws(() => new DeltaDecoder().push(brotli), { code: 'FORMAT_CORRUPT' }, 'a Brotli literals stream is checked whole, as before');
});

t.test('tryBytes(n, owned) copies bytes that sit in one chunk, and gathers split ones once', async (t) => {
  const r = new ByteReader();
  const chunk = Uint8Array.of(1, 2, 3, 4, 5);
  r.push(chunk);
  const owned = r.tryBytes(2, true)!;
  const view = r.tryBytes(1)!;
  chunk.fill(9);
  t.same([...owned], [1, 2], 'owned bytes survive the chunk being reused');
  t.same([...view], [9], 'a view follows the chunk');
  r.push(Uint8Array.of(6, 7));
  t.same([...r.tryBytes(3, true)!], [9, 9, 6], 'split across chunks');
  t.equal(r.tryBytes(2, true), undefined, 'one byte left, two asked');
});
