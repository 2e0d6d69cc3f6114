import t from 'tap';
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { BodyReader } from '../src/body-reader.js';

/** `body` cut into pieces of the given sizes (cycled), as a stream. */
function split(body: Buffer, sizes: readonly number[]): Readable {
  const pieces: Buffer[] = [];
  for (let at = 0, k = 0; at < body.length; k++) {
    const n = sizes[k % sizes.length]!;
    pieces.push(body.subarray(at, at + n));
    at += n;
  }
  return Readable.from(pieces, { objectMode: false });
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of chunks) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

const body = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));

t.test('reads, streams and skips the same bytes however the body is split', async (t) => {
  for (const sizes of [[1], [2], [3], [7], [15], [100], [65536], [1, 0, 5], [299, 1]]) {
    const r = new BodyReader(split(body, sizes));
    t.same(await r.read(8, 'a head'), body.subarray(0, 8), `${sizes}: read`);
    t.same(await collect(r.span(100, 'a part').chunks), body.subarray(8, 108), `${sizes}: streamed`);
    await r.span(50, 'skipped').skip();
    const half = r.span(100, 'half read');
    const it = half.chunks[Symbol.asyncIterator]();
    const first = Buffer.from((await it.next()).value as Uint8Array);
    t.same(first, body.subarray(158, 158 + first.length), `${sizes}: the first chunk of a part`);
    await half.skip();
    t.same(await r.read(42, 'the tail'), body.subarray(258), `${sizes}: read on after a part skipped half way`);
    await r.end('the tail');
  }
});

t.test('any split and any lengths give the bytes at their offsets', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }), fc.array(fc.nat({ max: 60 }), { maxLength: 8 }), async (sizes, lengths) => {
      const r = new BodyReader(split(body, sizes));
      let at = 0;
      for (const [k, n] of lengths.entries()) {
        if (at + n > body.length) break;
        const got = k % 2 === 0 ? await r.read(n, 'x') : await collect(r.span(n, 'x').chunks);
        if (!got.equals(body.subarray(at, at + n))) return false;
        at += n;
      }
      await r.span(body.length - at, 'rest').skip();
      await r.end('rest');
      return true;
    }),
  );
});

t.test('a body that ends early is TRUNCATED_UPLOAD, saying where', async (t) => {
  const short = () => new BodyReader(split(body.subarray(0, 10), [4]));
  await t.rejects(short().read(11, 'the header'), { code: 'TRUNCATED_UPLOAD', message: 'the body ended at byte 10, inside the header' });
  await t.rejects(collect(short().span(20, 'part 3').chunks), { code: 'TRUNCATED_UPLOAD', message: /byte 10, inside part 3/ });
  await t.rejects(short().span(20, 'part 3').skip(), { code: 'TRUNCATED_UPLOAD' });
  const r = short();
  await t.rejects(collect(r.span(20, 'part 0').chunks), { code: 'TRUNCATED_UPLOAD' });
  await t.rejects(r.read(1, 'more'), { code: 'TRUNCATED_UPLOAD' }, 'and stays ended');
  await t.resolves(new BodyReader(split(Buffer.alloc(0), [1])).end('nothing'), 'an empty body ends at once');
});

t.test('bytes after the expected end are a bad request', async (t) => {
  const r = new BodyReader(split(body, [7]));
  await r.read(299, 'all but one');
  await t.rejects(r.end('the last part'), { code: 'BAD_REQUEST', message: 'the body goes on after the last part (byte 299)' });
  const buffered = new BodyReader(split(body, [300]));
  await buffered.read(10, 'head');
  await t.rejects(buffered.end('the head'), { code: 'BAD_REQUEST' }, 'bytes already buffered count too');
});

t.test('a body stream that fails is TRUNCATED_UPLOAD with the failure as its cause', async (t) => {
  const cause = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
  const failing = new Readable({ read() {} });
  failing.push(body.subarray(0, 5));
  const r = new BodyReader(failing);
  const reading = r.read(10, 'the header');
  setImmediate(() => failing.destroy(cause));
  await t.rejects(reading, { code: 'TRUNCATED_UPLOAD', message: 'the body broke off at byte 5', cause });
  await t.rejects(r.read(1, 'more'), { code: 'TRUNCATED_UPLOAD' }, 'and stays ended');
});
