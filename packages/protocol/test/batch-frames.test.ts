import t from 'tap';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { deflateRaw } from '@deltabox/core';
import {
  BATCH_FRAMES_PREFIX_BYTES,
  BatchFramesError,
  decodeBatchFramesHeader,
  decodeBatchFramesPrefix,
  encodeBatchFramesHeader,
  type BatchPartMeta,
} from '../src/index.js';

const LIMIT = 1 << 20;

/** Decodes what encodeBatchFramesHeader wrote: the prefix, then the header after it. */
function decode(bytes: Uint8Array, maxParts = 1000): BatchPartMeta[] {
  const { jsonBytes } = decodeBatchFramesPrefix(bytes.subarray(0, BATCH_FRAMES_PREFIX_BYTES), LIMIT);
  return decodeBatchFramesHeader(bytes.subarray(BATCH_FRAMES_PREFIX_BYTES), jsonBytes, maxParts);
}

/** A header holding `value` as its JSON (any shape), deflated as a client would. */
function header(value: unknown): { bytes: Uint8Array; jsonBytes: number } {
  const json = new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
  return { bytes: deflateRaw(json), jsonBytes: json.length };
}

function prefix(headerBytes: number, jsonBytes: number): Uint8Array {
  const out = new Uint8Array(BATCH_FRAMES_PREFIX_BYTES);
  new DataView(out.buffer).setUint32(0, headerBytes);
  new DataView(out.buffer).setUint32(4, jsonBytes);
  return out;
}

const hash = 'ab'.repeat(32);

t.test('a header lists every part in order with its flags, and reads back the same', async (t) => {
  const metas: BatchPartMeta[] = [
    { path: 'a.txt', size: 3, mtimeMs: 1_700_000_000_000, hash, executable: false },
    { path: 'dir/run.sh', size: 0, mtimeMs: -86_400_000.25, hash, executable: true },
    { path: 'dir/new é.txt', size: 12, mtimeMs: 5, hash, executable: false, ifNoneMatch: true },
    { path: 'x', size: 2 ** 40, mtimeMs: 0, hash, executable: true, ifNoneMatch: true },
    { path: 'edited.txt', size: 40, mtimeMs: 7, hash, executable: false, ifMatch: 'cd'.repeat(32) },
    { path: 'edited.bin', size: 90, mtimeMs: 8, hash, executable: true, ifMatch: 'ef'.repeat(32), delta: true },
  ];
  const bytes = encodeBatchFramesHeader(metas);
  t.equal(decodeBatchFramesPrefix(bytes, LIMIT).headerBytes, bytes.length - BATCH_FRAMES_PREFIX_BYTES, 'the prefix gives the header its exact length');
  t.same(decode(bytes), metas);
  t.same(decode(encodeBatchFramesHeader([{ path: 'p', size: 1, mtimeMs: 1, hash }])), [{ path: 'p', size: 1, mtimeMs: 1, hash, executable: false }], 'executable absent is false');
  t.same(decode(encodeBatchFramesHeader([])), [], 'an empty batch');
});

t.test('a header of many similar parts costs far less than their multipart meta fields', async (t) => {
  const sha = (i: number) => createHash('sha256').update(String(i)).digest('hex'); // hashes do not deflate: as real ones
  const metas = Array.from({ length: 64 }, (_, i) => ({ path: `d0042/f${String(4200 + 100 * i).padStart(6, '0')}.txt`, size: 12, mtimeMs: 1_764_680_000_123 + i, hash: sha(i), ifNoneMatch: true }));
  const perPart = encodeBatchFramesHeader(metas).length / metas.length;
  t.ok(perPart < 60, `${perPart.toFixed(1)} B per part (a multipart meta field alone is ~170 B)`);
});

t.test('any list of parts reads back as it was encoded', async () => {
  const meta = fc.record({
    path: fc.string({ minLength: 1, maxLength: 40 }),
    size: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    mtimeMs: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 }).map((x) => (Object.is(x, -0) ? 0 : x)),
    hash: fc.string({ maxLength: 64 }),
    executable: fc.boolean(),
    ifNoneMatch: fc.option(fc.constant(true as const), { nil: undefined }),
    ifMatch: fc.option(fc.string({ maxLength: 64 }), { nil: undefined }),
    delta: fc.boolean(),
  });
  fc.assert(
    fc.property(fc.array(meta, { maxLength: 30 }), (metas) => {
      // ifMatch excludes ifNoneMatch, and a delta needs ifMatch.
      const expected = metas.map(({ ifNoneMatch, ifMatch, delta, ...m }): BatchPartMeta => {
        if (ifMatch !== undefined) return delta ? { ...m, ifMatch, delta } : { ...m, ifMatch };
        return ifNoneMatch ? { ...m, ifNoneMatch } : m;
      });
      const got = decode(encodeBatchFramesHeader(expected));
      return JSON.stringify(got) === JSON.stringify(expected);
    }),
  );
});

t.test('a prefix is checked against the limit before anything is read from it', async (t) => {
  t.same(decodeBatchFramesPrefix(prefix(10, 20), 20), { headerBytes: 10, jsonBytes: 20 }, 'at the limit');
  t.throws(() => decodeBatchFramesPrefix(prefix(21, 20), 20), { code: 'PAYLOAD_TOO_LARGE', message: /header of 21 bytes/ });
  t.throws(() => decodeBatchFramesPrefix(prefix(10, 21), 20), { code: 'PAYLOAD_TOO_LARGE', message: /header JSON of 21 bytes/ });
  t.throws(() => decodeBatchFramesPrefix(prefix(0xffffffff, 0xffffffff), LIMIT), { code: 'PAYLOAD_TOO_LARGE' }, 'the largest lengths');
  t.throws(() => decodeBatchFramesPrefix(prefix(1, 0), LIMIT), { code: 'BAD_REQUEST', message: /empty/ });
  t.throws(() => decodeBatchFramesPrefix(new Uint8Array(7), LIMIT), { code: 'BAD_REQUEST', message: /7 of 8 bytes/ });
  const inside = new Uint8Array(12);
  inside.set(prefix(3, 4), 4);
  t.same(decodeBatchFramesPrefix(inside.subarray(4), LIMIT), { headerBytes: 3, jsonBytes: 4 }, 'read at its own offset in a larger buffer');
});

t.test('a header that is not deflated JSON of the right shape is refused as a bad request', async (t) => {
  const refuse = (h: { bytes: Uint8Array; jsonBytes: number }, message: RegExp, what: string) =>
    t.throws(() => decodeBatchFramesHeader(h.bytes, h.jsonBytes, 10), { name: 'BatchFramesError', code: 'BAD_REQUEST', message }, what);
  const good = header({ v: 1, parts: [] });
  refuse({ bytes: new TextEncoder().encode('{"v":1,"parts":[]}'), jsonBytes: 18 }, /not raw deflate/, 'JSON sent without deflate');
  refuse({ bytes: good.bytes, jsonBytes: good.jsonBytes + 1 }, /not raw deflate of 19 bytes/, 'a JSON length that does not match');
  refuse({ bytes: good.bytes.subarray(0, good.bytes.length - 1), jsonBytes: good.jsonBytes }, /not raw deflate/, 'a cut deflate stream');
  refuse({ bytes: deflateRaw(Uint8Array.of(0x7b, 0xff, 0x7d)), jsonBytes: 3 }, /not UTF-8 JSON/, 'bytes that are not UTF-8');
  refuse(header('{"v":1,'), /not UTF-8 JSON/, 'JSON cut short');
  refuse(header('null'), /version is undefined/, 'null');
  refuse(header([1, []]), /version is undefined/, 'an array');
  refuse(header({ v: 2, parts: [] }), /version is 2/, 'an unknown version');
  refuse(header({ v: 1 }), /no parts array/, 'no parts');
  refuse(header({ v: 1, parts: {} }), /no parts array/, 'parts not an array');
  const part = (tuple: unknown[]) => header({ v: 1, parts: [['ok', 1, 1, hash, 0], tuple] });
  refuse(part(['a', 1, 1, hash]), /part 1: must be \[path, size, mtimeMs, hash, flags\]/, 'four fields');
  refuse(part(['a', 1, 1, hash, 0, 0, 0]), /part 1: must be/, 'seven fields');
  refuse(part(['a', 1, 1, hash, 0, hash]), /sixth element \(ifMatch\) comes with flag 4/, 'an ifMatch without its flag');
  refuse(part(['a', 1, 1, hash, 4]), /sixth element \(ifMatch\) comes with flag 4/, 'the flag without an ifMatch');
  refuse(part(['a', 1, 1, hash, 4, 7]), /ifMatch must be a string/, 'an ifMatch that is a number');
  refuse(part(['a', 1, 1, hash, 8]), /a delta \(flag 8\) needs ifMatch/, 'a delta without a base');
  refuse(part(['a', 1, 1, hash, 6, hash]), /exclude each other/, 'ifMatch and ifNoneMatch together');
  refuse(header({ v: 1, parts: [{ path: 'a' }] }), /part 0: must be/, 'an object for a part');
  refuse(part([7, 1, 1, hash, 0]), /path must be a string/, 'a number for a path');
  for (const size of [-1, 1.5, '1', 2 ** 53, null]) refuse(part(['a', size, 1, hash, 0]), /size must be a byte count/, `size ${JSON.stringify(size)}`);
  refuse(header('{"v":1,"parts":[["a",1,1e400,"h",0]]}'), /mtimeMs must be a number/, 'an mtime past any number');
  refuse(part(['a', 1, '1', hash, 0]), /mtimeMs must be a number/, 'an mtime as a string');
  refuse(part(['a', 1, 1, null, 0]), /hash must be a string/, 'no hash');
  for (const flags of [16, -1, 1.5, 2 ** 32, '1', true]) refuse(part(['a', 1, 1, hash, flags]), /flags must be a sum of known bits/, `flags ${JSON.stringify(flags)}`);
});

t.test('a header listing more parts than allowed is too large', async (t) => {
  const h = header({ v: 1, parts: Array.from({ length: 4 }, (_, i) => [`f${i}`, 1, 1, hash, 0]) });
  t.equal(decodeBatchFramesHeader(h.bytes, h.jsonBytes, 4).length, 4, 'at the limit');
  t.throws(() => decodeBatchFramesHeader(h.bytes, h.jsonBytes, 3), { code: 'PAYLOAD_TOO_LARGE', message: /4 parts, over the 3-part limit/ });
});

t.test('mutated and random headers give parts or a BatchFramesError, never another error', async () => {
  const valid = encodeBatchFramesHeader([
    { path: 'a/b.txt', size: 5, mtimeMs: 1_700_000_000_000, hash, executable: true },
    { path: 'c.txt', size: 0, mtimeMs: -1.5, hash, ifNoneMatch: true },
    { path: 'd.txt', size: 9, mtimeMs: 3, hash, ifMatch: hash, delta: true },
  ]);
  const tryDecode = (bytes: Uint8Array): boolean => {
    try {
      decode(bytes);
      return true;
    } catch (err) {
      return err instanceof BatchFramesError;
    }
  };
  fc.assert(
    fc.property(fc.nat({ max: valid.length - 1 }), fc.nat({ max: 7 }), (at, bit) => {
      const mutated = Uint8Array.from(valid);
      mutated[at]! ^= 1 << bit;
      return tryDecode(mutated) && tryDecode(valid.subarray(0, at));
    }),
  );
  fc.assert(fc.property(fc.uint8Array({ minLength: 8, maxLength: 64 }), (bytes) => tryDecode(bytes)));
});
