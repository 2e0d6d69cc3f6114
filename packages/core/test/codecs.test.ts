import t from 'tap';
import fc from 'fast-check';
import {
  decodeSignature, encodeSignature, computeSignature, SignatureBuilder, DeltaDecoder, readDeltaHeader,
  applyDeltaToBuffer, PatchApplier, DeltaEncoder, encodeDelta, contentHashOf, createContentHasher, DeltaError,
} from '../src/index.js';
import { ByteWriter, varintLength } from '../src/wire/byte-writer.js';
import { concat, deltaOf, equalBytes, seededBytes, signatureOf } from './helpers/bytes.js';

t.test('signature encode -> decode is the identity', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 8 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (bytes, bl, sl, seed) => {
        const b = new SignatureBuilder({ blockLength: bl, strongLength: sl, seed });
        b.push(bytes);
        const sig = b.finish();
        const back = decodeSignature(encodeSignature(sig));
        return back.blockLength === bl && back.strongLength === sl && back.seed === seed && back.basisLength === bytes.length &&
          equalBytes(new Uint8Array(back.weakSums.buffer), new Uint8Array(sig.weakSums.buffer)) && equalBytes(back.strongHashes, sig.strongHashes);
      }),
      { numRuns: 200 },
    ),
  );
});

t.test('the signature does not depend on how the basis is split', async (t) => {
  const basis = seededBytes(10_000, 3);
  const whole = encodeSignature(await computeSignature([basis], { blockLength: 300, seed: 5n }));
  for (const size of [1, 2, 3, 7, 15, 100, 299, 300, 301, 65536]) {
    const parts = [];
    for (let i = 0; i < basis.length; i += size) parts.push(basis.subarray(i, i + size));
    t.ok(equalBytes(encodeSignature(await computeSignature(parts, { blockLength: 300, seed: 5n })), whole), `chunks of ${size}`);
  }
});

t.test('signature options are validated', async (t) => {
  t.throws(() => new SignatureBuilder({ blockLength: 0 }), { code: 'DELTA_USAGE' });
  t.throws(() => new SignatureBuilder({ blockLength: 2 ** 21 }), { code: 'DELTA_USAGE' });
  t.throws(() => new SignatureBuilder({ strongLength: 9 }), { code: 'DELTA_USAGE' });
  t.throws(() => new SignatureBuilder({ strongLength: 0 }), { code: 'DELTA_USAGE' });
  const b = new SignatureBuilder();
  b.finish();
  t.throws(() => b.push(new Uint8Array(1)), { code: 'DELTA_USAGE' });
  t.throws(() => b.finish(), { code: 'DELTA_USAGE' });
  const random1 = new SignatureBuilder().seed;
  const random2 = new SignatureBuilder().seed;
  t.not(random1, random2, 'seeds are random by default');
});

t.test('truncated strong hashes still find matches', async (t) => {
  const basis = seededBytes(50_000, 4);
  const target = concat([basis.subarray(0, 20_000), Uint8Array.of(9, 9, 9), basis.subarray(20_000)]);
  for (const strongLength of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const sig = await signatureOf(basis, { strongLength, blockLength: 512 });
    const { delta, stats } = deltaOf(sig, target);
    t.ok(stats.literalBytes <= 512 + 3, `strong length ${strongLength}: literal ${stats.literalBytes}`);
    t.ok(equalBytes(await applyDeltaToBuffer(basis, delta), target));
  }
});

t.test('signature decoder rejects malformed input with typed errors', async (t) => {
  const good = encodeSignature(await signatureOf(seededBytes(1000, 1), { blockLength: 100 }));
  const cases: Array<[string, Uint8Array, string]> = [
    ['empty', new Uint8Array(0), 'FORMAT_TRUNCATED'],
    ['bad magic', Uint8Array.of(0x44, 0x42, 0x58, 0x44, 1), 'FORMAT_BAD_MAGIC'],
    ['version 2', Uint8Array.of(...good.subarray(0, 4), 2, ...good.subarray(5)), 'FORMAT_UNSUPPORTED_VERSION'],
    ['unknown weak sum', Uint8Array.of(...good.subarray(0, 5), 9, ...good.subarray(6)), 'FORMAT_CORRUPT'],
    ['unknown strong hash', Uint8Array.of(...good.subarray(0, 6), 9, ...good.subarray(7)), 'FORMAT_CORRUPT'],
    ['strong length 9', Uint8Array.of(...good.subarray(0, 7), 9, ...good.subarray(8)), 'FORMAT_CORRUPT'],
    ['block length 0', Uint8Array.of(...good.subarray(0, 8), 0, ...good.subarray(9)), 'FORMAT_CORRUPT'],
    ['truncated block table', good.subarray(0, good.length - 1), 'FORMAT_TRUNCATED'],
    ['trailing byte', concat([good, Uint8Array.of(0)]), 'FORMAT_CORRUPT'],
    ['header cut in the seed', good.subarray(0, 14), 'FORMAT_TRUNCATED'],
  ];
  for (const [name, bytes, code] of cases) t.throws(() => decodeSignature(bytes), { code }, name);
  // A header claiming a huge basis with 1-byte blocks: refused by the limit before any allocation.
  const w = new ByteWriter().bytes(good.subarray(0, 8)).varint(1).varint(2 ** 40).u64le(0n);
  t.throws(() => decodeSignature(w.take()), { code: 'FORMAT_LIMIT_EXCEEDED' });
  const w2 = new ByteWriter().bytes(good.subarray(0, 8)).varint(2 ** 30).varint(10).u64le(0n);
  t.throws(() => decodeSignature(w2.take()), { code: 'FORMAT_LIMIT_EXCEEDED' });
  const w3 = new ByteWriter().bytes(good.subarray(0, 8)).varint(16).varint(2 ** 52).u64le(0n);
  t.throws(() => decodeSignature(w3.take()), { code: 'FORMAT_LIMIT_EXCEEDED' });
});

t.test('varints: one encoding per value, bounded length', async (t) => {
  for (const v of [0, 1, 127, 128, 16383, 16384, 2 ** 32, 2 ** 53 - 1]) {
    const w = new ByteWriter();
    w.varint(v);
    t.equal(w.length, varintLength(v), `length of ${v}`);
  }
  const sigHeader = encodeSignature(await signatureOf(new Uint8Array(0))).subarray(0, 8);
  const redundant = concat([sigHeader, Uint8Array.of(0x81, 0x00)]);
  t.throws(() => decodeSignature(redundant), { code: 'FORMAT_CORRUPT' }, 'redundant zero byte');
  const tooLong = concat([sigHeader, new Uint8Array(9).fill(0x80)]);
  t.throws(() => decodeSignature(tooLong), { code: 'FORMAT_CORRUPT' }, 'over 8 bytes');
  const beyond = concat([sigHeader, Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)]);
  t.throws(() => decodeSignature(beyond), { code: 'FORMAT_CORRUPT' }, 'beyond 2^53');
});

t.test('delta decoder rejects malformed deltas with typed errors', async (t) => {
  const basis = seededBytes(4000, 2);
  const target = concat([basis.subarray(0, 1000), seededBytes(500, 3), basis.subarray(1000)]);
  const sig = await signatureOf(basis, { blockLength: 256 });
  const { delta } = deltaOf(sig, target, { compress: false, formatVersion: 1 });
  const decode = (bytes: Uint8Array) => {
    const d = new DeltaDecoder();
    d.push(bytes);
    d.finish();
  };
  t.doesNotThrow(() => decode(delta));
  t.throws(() => decode(delta.subarray(0, delta.length - 1)), { code: 'FORMAT_TRUNCATED' }, 'cut in the trailer');
  t.throws(() => decode(new Uint8Array(0)), { code: 'FORMAT_TRUNCATED' }, 'empty');
  t.throws(() => decode(concat([delta, Uint8Array.of(1)])), { code: 'FORMAT_CORRUPT' }, 'bytes after END');
  t.throws(() => decode(Uint8Array.of(0x44, 0x42, 0x58, 0x53)), { code: 'FORMAT_BAD_MAGIC' }, 'a signature is not a delta');
  t.throws(() => decode(Uint8Array.of(0x41)), { code: 'FORMAT_BAD_MAGIC' }, 'wrong magic seen at the first byte');
  t.throws(() => decode(Uint8Array.of(0x44, 0x42, 0x58, 0x44, 9, 0, 0)), { code: 'FORMAT_UNSUPPORTED_VERSION' });
  t.throws(() => decode(Uint8Array.of(0x44, 0x42, 0x58, 0x44, 1, 4, 0)), { code: 'FORMAT_CORRUPT' }, 'unknown flags');
  const header = Uint8Array.of(0x44, 0x42, 0x58, 0x44, 1, 0, 0);
  t.throws(() => decode(concat([header, Uint8Array.of(0x7f)])), { code: 'FORMAT_CORRUPT' }, 'unknown opcode');
  t.throws(() => decode(concat([header, Uint8Array.of(0x02, 0x00)])), { code: 'FORMAT_CORRUPT' }, 'zero-length literal');
  t.throws(() => decode(concat([header, Uint8Array.of(0x01, 0x00, 0x00)])), { code: 'FORMAT_CORRUPT' }, 'zero-length copy');
  t.throws(() => decode(concat([header, Uint8Array.of(0x01, 0x01, 0x05)])), { code: 'FORMAT_CORRUPT' }, 'negative copy offset');
  const hugeLiteral = new ByteWriter().bytes(header).u8(0x02).varint(2 ** 40).take();
  t.throws(() => decode(hugeLiteral), { code: 'FORMAT_LIMIT_EXCEEDED' }, 'literal over the limit, nothing allocated');
  const hugeDeflate = new ByteWriter().bytes(header).u8(0x03).varint(100).varint(10_000).take();
  t.throws(() => decode(hugeDeflate), { code: 'FORMAT_LIMIT_EXCEEDED' }, 'compressed length over deflate bound');
  const badDeflate = new ByteWriter().bytes(header).u8(0x03).varint(100).varint(4).bytes(Uint8Array.of(1, 2, 3, 4)).take();
  t.throws(() => decode(badDeflate), { code: 'FORMAT_CORRUPT' }, 'deflate garbage');
  const zeroDeflate = new ByteWriter().bytes(header).u8(0x03).varint(0).varint(4).take();
  t.throws(() => decode(zeroDeflate), { code: 'FORMAT_CORRUPT' }, 'zero-length compressed literal');
  const lyingEnd = new ByteWriter().bytes(header).u8(0x02).varint(1).u8(65).u8(0).varint(2).u8(1).bytes(new Uint8Array(32)).take();
  t.throws(() => decode(lyingEnd), { code: 'FORMAT_CORRUPT' }, 'END length differs from the ops');
  const badHashAlg = new ByteWriter().bytes(header).u8(0).varint(0).u8(7).bytes(new Uint8Array(32)).take();
  t.throws(() => decode(badHashAlg), { code: 'FORMAT_CORRUPT' }, 'unknown target hash algorithm');
  const hugeBasis = new ByteWriter().bytes(header.subarray(0, 6)).varint(2 ** 52).take();
  t.throws(() => decode(hugeBasis), { code: 'FORMAT_LIMIT_EXCEEDED' }, 'basis length over the limit');
  const d = new DeltaDecoder({ maxTargetLength: 10 });
  t.throws(() => d.push(new ByteWriter().bytes(header).u8(0x01).zigzag(0).varint(11).take()), { code: 'FORMAT_LIMIT_EXCEEDED' }, 'target over the limit');
  t.same(readDeltaHeader(delta), { basisLength: 4000, version: 1 });
  t.throws(() => readDeltaHeader(delta.subarray(0, 5)), { code: 'FORMAT_TRUNCATED' });
  const done = new DeltaDecoder();
  done.push(delta);
  t.ok(done.done);
  t.same(done.push(new Uint8Array(0)), [], 'empty push after END is fine');
  t.throws(() => done.push(Uint8Array.of(0)), { code: 'FORMAT_CORRUPT' });
});

t.test('patch checks the basis and the result', async (t) => {
  const basis = seededBytes(4000, 2);
  const target = concat([basis.subarray(0, 3000), seededBytes(50, 4)]);
  const sig = await signatureOf(basis, { blockLength: 256 });
  const { delta } = deltaOf(sig, target, { compress: false });
  await t.rejects(applyDeltaToBuffer(basis.subarray(0, 3999), delta), { code: 'DELTA_BASIS_MISMATCH' }, 'basis of another length');
  const flipped = delta.slice();
  flipped[delta.length - 40] ^= 1; // inside the last literal
  await t.rejects(applyDeltaToBuffer(basis, flipped), { code: 'DELTA_CHECKSUM_MISMATCH' }, 'a flipped literal byte');
  const badHash = delta.slice();
  badHash[delta.length - 1] ^= 1;
  await t.rejects(applyDeltaToBuffer(basis, badHash), { code: 'DELTA_CHECKSUM_MISMATCH' }, 'a lying hash');
  const header = Uint8Array.of(0x44, 0x42, 0x58, 0x44, 1, 0);
  const pastEnd = new ByteWriter().bytes(header).varint(4000).u8(0x01).zigzag(3990).varint(20).take();
  await t.rejects(applyDeltaToBuffer(basis, pastEnd), { code: 'DELTA_BASIS_MISMATCH' }, 'copy past the basis');
  await t.rejects(applyDeltaToBuffer(basis, delta.subarray(0, 20)), { code: 'FORMAT_TRUNCATED' });
  const shortReader = new PatchApplier({ length: 4000, read: () => new Uint8Array(1) });
  await t.rejects(async () => {
    for await (const _ of shortReader.apply([delta])) void _;
  }, { code: 'DELTA_BASIS_MISMATCH' }, 'a basis reader that returns short reads');
  const once = new PatchApplier({ length: basis.length, read: (o, n) => basis.subarray(o, o + n) });
  const out: Uint8Array[] = [];
  for await (const p of once.apply((async function* () { for (let i = 0; i < delta.length; i += 3) yield delta.subarray(i, i + 3); })())) out.push(p);
  t.ok(equalBytes(concat(out), target), 'delta fed 3 bytes at a time');
  t.equal(once.result?.targetLength, target.length);
  await t.rejects(async () => {
    for await (const _ of once.apply([delta])) void _;
  }, { code: 'DELTA_USAGE' });
});

t.test('encoder API: stats, misuse, async generator', async (t) => {
  const basis = seededBytes(3000, 1);
  const sig = await signatureOf(basis);
  t.throws(() => new DeltaEncoder(sig, { basis: { length: 5, read: () => new Uint8Array(0) } }), { code: 'DELTA_USAGE' });
  t.throws(() => new DeltaEncoder(sig, { literalChunk: 0 }), { code: 'DELTA_USAGE' });
  t.throws(() => new DeltaEncoder(sig, { formatVersion: 3 as 2 }), { code: 'DELTA_USAGE' });
  const enc = new DeltaEncoder(sig);
  t.same(enc.push(new Uint8Array(0)), []);
  enc.finish();
  t.throws(() => enc.finish(), { code: 'DELTA_USAGE' });
  t.throws(() => enc.push(Uint8Array.of(1)), { code: 'DELTA_USAGE' });
  const gen = encodeDelta(sig, [basis.subarray(0, 1000), basis.subarray(1000)]);
  const parts: Uint8Array[] = [];
  let r = await gen.next();
  while (!r.done) {
    parts.push(r.value);
    r = await gen.next();
  }
  t.equal(r.value.targetLength, 3000);
  t.equal(r.value.deltaBytes, concat(parts).length);
  t.equal(r.value.targetHash, (await contentHashOf([basis])).hash);
  const h = createContentHasher();
  h.update(new TextEncoder().encode('abc'));
  t.equal(h.digestHex(), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'SHA-256 known answer');
  t.ok(new DeltaError('DELTA_USAGE', 'x', 5).message.includes('at byte 5'));
});

t.test('the hot-loop compiler refuses parameters it cannot bake into source', async (t) => {
  const { candidateScanner } = await import('../src/roll-scanner.js');
  t.throws(() => candidateScanner(0, 10), RangeError);
  t.throws(() => candidateScanner(1.5, 10), RangeError);
  t.throws(() => candidateScanner(64, 32), RangeError);
  t.equal(candidateScanner(64, 10), candidateScanner(64, 10), 'compiled once per block length and shift');
});
