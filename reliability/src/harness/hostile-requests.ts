/**
 * Seeded malformed requests for the HTTP fuzzer: raw bytes for node:net (garbage, broken framing, random
 * methods, paths and headers, huge and lying lengths, truncated bodies) and deep requests with a valid
 * token that must still fail (deltas whose copies run past the basis, deltas and uploads whose hash lies,
 * mutated deltas, broken multipart, frames batch bodies and JSON). None of them may change the server folder.
 */
import { computeSignature, encodeDelta, type SyncBasisReader } from '@deltabox/core';
import { encodeBatchFramesHeader, mediaTypes, type BatchPartMeta } from '@deltabox/protocol';
import type { SeededRandom } from './seeded-random.js';
import { requestBytes, type RawRequest } from './raw-http.js';

/** `error`: must be a 4xx; `any`: anything but a 5xx (reads that may legitimately succeed). */
export type Expectation = 'error' | 'any';

export interface FuzzCase {
  kind: string;
  bytes: Buffer;
  expect: Expectation;
  /** The request is cut short on purpose: no answer is acceptable. */
  mayNotAnswer: boolean;
}

export interface FuzzFixtures {
  token: string;
  /** An existing file on the server, its content and hash (the basis for deltas). */
  basisPath: string;
  basis: Buffer;
  basisHash: string;
  /** A valid delta basis -> target, a delta computed against a longer basis (copies past the end). */
  validDelta: Buffer;
  pastBaseDelta: Buffer;
}

const METHODS = ['GET', 'PUT', 'PATCH', 'POST', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT', 'PROPFIND', 'G\u00e9T', 'GET\t', ''];
const ROUTES = ['/v1/files/', '/v1/signatures/', '/v1/dirs/', '/v1/batch', '/v1/moves', '/v1/changes', '/v1/files', '/v1/health', '/v2/files/', '/', '*'];
const EVIL_SEGMENTS = [
  '..', '%2e%2e', '%2E%2E', '..%2f', '%2e%2e%2f', '..%5c', '%252e%252e', '%c0%ae%c0%ae', '.%00.', '%00', '%ff%fe', '.deltabox',
  '.DELTABOX', 'con', 'NUL.txt', 'com1', '%', '%zz', '\u00e9', 'e%cc%81', 'a'.repeat(300), '%F0%9F%92%A9',
];

function bufferReader(data: Buffer): SyncBasisReader {
  return { length: data.length, read: (offset, length) => data.subarray(offset, offset + length) };
}

async function collect(gen: AsyncGenerator<Uint8Array, unknown>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for (;;) {
    const next = await gen.next();
    if (next.done) return Buffer.concat(parts);
    parts.push(next.value);
  }
}

/** Builds the deltas once: a valid one, and one whose copies point past the real basis. */
export async function buildDeltas(basis: Buffer, rng: SeededRandom): Promise<{ validDelta: Buffer; pastBaseDelta: Buffer }> {
  const target = Buffer.from(basis);
  target.write('edited in the middle', Math.floor(basis.length / 2));
  const validDelta = await collect(encodeDelta(await computeSignature([basis]), [target], { basis: bufferReader(basis) }));
  const longer = Buffer.concat([basis, rng.bytes(64 * 1024)]);
  const longerTarget = Buffer.concat([Buffer.from('x'), longer]);
  const pastBaseDelta = await collect(encodeDelta(await computeSignature([longer]), [longerTarget], { basis: bufferReader(longer) }));
  return { validDelta, pastBaseDelta };
}

function randomTarget(rng: SeededRandom): string {
  const route = rng.pick(ROUTES);
  if (!route.endsWith('/')) return rng.chance(0.3) ? `${route}?${rng.pick(['since=-1', 'since=abc', 'waitMs=1e99', 'limit=0', 'recursive=yes', '%%', 'a'.repeat(5000)])}` : route;
  const segments: string[] = [];
  const count = rng.int(1, 5);
  for (let i = 0; i < count; i++) segments.push(rng.chance(0.6) ? rng.pick(EVIL_SEGMENTS) : `n${rng.int(0, 99)}`);
  let target = route + segments.join(rng.chance(0.9) ? '/' : '//');
  if (rng.chance(0.05)) target += '/'.repeat(rng.int(1, 3));
  if (rng.chance(0.03)) target = route + 'x'.repeat(rng.int(13_000, 20_000));
  return target;
}

function randomHeaderValue(rng: SeededRandom): string {
  return rng.pick(['', ' ', 'x'.repeat(rng.int(1, 300)), '"0"', '*', '-1', '1e30', '99999999999999999999', 'bytes=5-1', 'bytes=-', 'W/"', '\u00ff\u00fe']);
}

function authFor(rng: SeededRandom, token: string): Array<[string, string]> {
  const roll = rng.next();
  if (roll < 0.3) return [];
  if (roll < 0.5) return [['authorization', rng.pick(['Bearer', 'Bearer ', 'Basic abc', `Bearer ${token}x`, `Bearer dbx_${'A'.repeat(43)}`, `bearer  ${'z'.repeat(250)}`])]];
  return [['authorization', `Bearer ${token}`]];
}

/** A raw request with random method, target and headers; writes carry lies so that they cannot succeed. */
function randomRawRequest(rng: SeededRandom, f: FuzzFixtures): FuzzCase {
  const method = rng.pick(METHODS);
  const headers: Array<[string, string]> = [...authFor(rng, f.token)];
  const lie = '0'.repeat(64);
  headers.push(['x-deltabox-content-hash', lie], ['if-match', `"${lie}"`], ['if-none-match', '*']);
  const extra = rng.int(0, 4);
  for (let i = 0; i < extra; i++) {
    headers.push([rng.pick(['content-type', 'range', 'x-deltabox-mtime-ms', 'x-deltabox-executable', 'x-garbage', 'expect', 'content-encoding']), randomHeaderValue(rng)]);
  }
  let body: Buffer = Buffer.alloc(0);
  let mayNotAnswer = false;
  const bodyKind = rng.int(0, 4);
  if (bodyKind === 1) {
    body = rng.bytes(rng.int(1, 4096));
    headers.push(['content-length', String(body.length)]);
  } else if (bodyKind === 2) {
    // Huge declared length, short body: the server may wait for the rest; we give up after a while.
    body = rng.bytes(rng.int(0, 2048));
    headers.push(['content-length', rng.pick(['10000000000', '99999999999999', '9007199254740993', '1' + '0'.repeat(30)])]);
    mayNotAnswer = true;
  } else if (bodyKind === 3) {
    headers.push(['transfer-encoding', 'chunked']);
    body = Buffer.from(rng.pick(['zz\r\nabc\r\n0\r\n\r\n', '5\r\nab', 'ffffffffffffffff\r\n', '3\r\nabc\r\n0\r\n\r\n']));
    if (rng.chance(0.3)) headers.push(['content-length', '3']);
    mayNotAnswer = true;
  } else if (bodyKind === 4) {
    headers.push(['content-length', String(rng.int(100, 5000))]);
    body = rng.bytes(rng.int(0, 99)); // truncated: then we half-close
    mayNotAnswer = true;
  }
  const target = randomTarget(rng);
  // PUT /v1/dirs has no precondition to lie in: with a valid token it would create a folder. Send it unauthenticated.
  const auth = method === 'PUT' && target.startsWith('/v1/dirs/') ? headers.filter(([k]) => k !== 'authorization') : headers;
  const req: RawRequest = { method: method || 'GET', target, headers: auth, body };
  const read = ['GET', 'HEAD'].includes(method.trim()) || method === '';
  // CONNECT: Node's HTTP server closes the socket without an answer when nobody listens for 'connect'.
  return { kind: 'raw-request', bytes: requestBytes(req, '127.0.0.1'), expect: read ? 'any' : 'error', mayNotAnswer: mayNotAnswer || method === 'CONNECT' };
}

function garbage(rng: SeededRandom): FuzzCase {
  const kind = rng.int(0, 2);
  let bytes: Buffer;
  if (kind === 0) bytes = rng.bytes(rng.int(1, 4096));
  else if (kind === 1) bytes = Buffer.from(`GET /v1/health HTTP/1.1\r\n${'x-h: '.repeat(rng.int(1, 5))}${'a'.repeat(rng.int(10, 40_000))}\r\n\r\n`);
  else bytes = Buffer.concat([Buffer.from(rng.pick(['GET ', 'PUT /v1/files/a HTTP/1.1\r\n', 'HTTP/1.1 200 OK\r\n', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'])), rng.bytes(rng.int(0, 200))]);
  return { kind: 'garbage', bytes, expect: 'error', mayNotAnswer: true };
}

function deltaRequest(rng: SeededRandom, f: FuzzFixtures, body: Buffer, ifMatch: string, kind: string, declaredHash?: string): FuzzCase {
  const headers: Array<[string, string]> = [
    ['authorization', `Bearer ${f.token}`],
    ['content-type', 'application/vnd.deltabox.delta'],
    ['if-match', `"${ifMatch}"`],
    ['content-length', String(body.length)],
  ];
  if (declaredHash) headers.push(['x-deltabox-content-hash', declaredHash]);
  const target = `/v1/files/${f.basisPath}`;
  return { kind, bytes: requestBytes({ method: 'PATCH', target, headers, body }, '127.0.0.1'), expect: 'error', mayNotAnswer: false };
}

/** Deep requests with a valid token that must fail on their content. */
/**
 * A frames batch body (docs/API.md §POST /v1/batch): a real prefix and deflated header whose every part's hash
 * lies (so no part may land), then often broken: cut short, a length in the prefix changed, bytes flipped,
 * bytes appended, or more bytes declared than sent. The folder check proves nothing landed.
 */
function framesRequest(rng: SeededRandom, f: FuzzFixtures): FuzzCase {
  const metas: BatchPartMeta[] = Array.from({ length: rng.int(1, 4) }, () => ({
    path: rng.pick(['fuzz.txt', '../escape.txt', '.deltabox/state.sqlite', 'a/../../b', '', 'd/\u0000.txt', '/abs.txt']),
    size: rng.pick([0, 3, 3, 70_000]),
    mtimeMs: rng.pick([1, -1.5, 1e20, 0]),
    hash: rng.pick(['1'.repeat(64), 'x', '', 'F'.repeat(64)]),
    ...(rng.chance(0.3) ? { executable: true } : {}),
    ...(rng.chance(0.3) ? { ifNoneMatch: true } : {}),
  }));
  const head = Buffer.from(encodeBatchFramesHeader(metas));
  let body = Buffer.concat([head, ...metas.map((m) => rng.bytes(m.size))]);
  const how = rng.int(0, 5);
  if (how === 1) body = body.subarray(0, rng.int(0, body.length - 1));
  else if (how === 2) body.writeUInt32BE(rng.pick([0, 1, 0xffffffff, head.length + 1, rng.int(0, 1 << 20)]), rng.pick([0, 4]));
  else if (how === 3) for (let i = rng.int(1, 6); i > 0; i--) body[rng.int(0, body.length - 1)] ^= 1 << rng.int(0, 7);
  else if (how === 4) body = Buffer.concat([body, rng.bytes(rng.int(1, 64))]);
  const declared = how === 5 ? body.length + rng.int(1, 4096) : body.length;
  const headers: Array<[string, string]> = [
    ['authorization', `Bearer ${f.token}`],
    ['content-type', mediaTypes.batchFrames],
    ['content-length', String(declared)],
  ];
  // Declaring more than is sent leaves the server waiting for the rest: it may not answer before the socket ends.
  return { kind: 'batch-frames-malformed', bytes: requestBytes({ method: 'POST', target: '/v1/batch', headers, body }, '127.0.0.1'), expect: 'any', mayNotAnswer: how === 5 };
}

function deepRequest(rng: SeededRandom, f: FuzzFixtures): FuzzCase {
  const choice = rng.int(0, 8);
  if (choice === 7) return framesRequest(rng, f);
  if (choice === 0) return deltaRequest(rng, f, f.pastBaseDelta, f.basisHash, 'delta-copy-past-basis');
  if (choice === 1) {
    const lying = Buffer.from(f.validDelta);
    lying[lying.length - 1 - rng.int(0, 31)] ^= 0xff; // the trailer's SHA-256 lies
    return deltaRequest(rng, f, lying, f.basisHash, 'delta-hash-lies');
  }
  if (choice === 2) return deltaRequest(rng, f, f.validDelta, f.basisHash, 'delta-declared-hash-lies', 'f'.repeat(64));
  if (choice === 3) {
    const mutated = Buffer.from(f.validDelta);
    const flips = rng.int(1, 8);
    for (let i = 0; i < flips; i++) mutated[rng.int(0, mutated.length - 33)] ^= 1 << rng.int(0, 7);
    // A flip may land in a literal and still decode: the trailer hash then refuses it (422) - a 4xx either way.
    return deltaRequest(rng, f, rng.chance(0.5) ? mutated : mutated.subarray(0, rng.int(0, mutated.length - 1)), f.basisHash, 'delta-mutated');
  }
  if (choice === 4) {
    const body = rng.bytes(rng.int(0, 20_000));
    const headers: Array<[string, string]> = [
      ['authorization', `Bearer ${f.token}`],
      ['x-deltabox-content-hash', 'e'.repeat(64)],
      ['content-length', String(body.length)],
    ];
    return { kind: 'put-hash-lies', bytes: requestBytes({ method: 'PUT', target: `/v1/files/fuzz-${rng.int(0, 9)}.bin`, headers, body }, '127.0.0.1'), expect: 'error', mayNotAnswer: false };
  }
  if (choice === 5) {
    const boundary = 'b0undary';
    const meta = rng.pick([
      '{"path":"fuzz.txt","size":3,"mtimeMs":1,"hash":"' + '1'.repeat(64) + '"}',
      '{"path":"../escape.txt","size":3,"mtimeMs":1,"hash":"x"}',
      '{"path":".deltabox/state.sqlite","size":3,"mtimeMs":1,"hash":"' + '2'.repeat(64) + '"}',
      '{not json',
      '{"path":"fuzz.txt","size":-5,"mtimeMs":"x","hash":null}',
    ]);
    const parts = `--${boundary}\r\ncontent-disposition: form-data; name="meta"\r\n\r\n${meta}\r\n--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="f"\r\ncontent-type: application/octet-stream\r\n\r\nabc\r\n--${boundary}--\r\n`;
    const body = Buffer.from(rng.chance(0.3) ? parts.slice(0, rng.int(0, parts.length)) : parts);
    const headers: Array<[string, string]> = [
      ['authorization', `Bearer ${f.token}`],
      ['content-type', rng.chance(0.8) ? `multipart/form-data; boundary=${boundary}` : 'multipart/form-data'],
      ['content-length', String(body.length)],
    ];
    // A batch answers 200 with per-file errors; that is its contract. The folder check proves nothing landed.
    return { kind: 'batch-malformed', bytes: requestBytes({ method: 'POST', target: '/v1/batch', headers, body }, '127.0.0.1'), expect: 'any', mayNotAnswer: false };
  }
  if (choice === 6) {
    const json = rng.pick([
      '{',
      '[]',
      'null',
      '{"from":"' + f.basisPath + '","to":"../../outside.txt"}',
      '{"from":"' + f.basisPath + '","to":"stolen.txt","ifMatch":"' + '3'.repeat(64) + '"}',
      '{"from":".deltabox/state.sqlite","to":"db.sqlite"}',
      '{"from":1,"to":{}}',
      '{"__proto__":{"overwrite":true},"from":"nope","to":"' + f.basisPath + '"}',
    ]);
    const headers: Array<[string, string]> = [
      ['authorization', `Bearer ${f.token}`],
      ['content-type', 'application/json'],
      ['content-length', String(Buffer.byteLength(json))],
    ];
    return { kind: 'move-malformed', bytes: requestBytes({ method: 'POST', target: '/v1/moves', headers, body: json }, '127.0.0.1'), expect: 'error', mayNotAnswer: false };
  }
  const q = rng.pick(['blockLength=0', 'blockLength=-1', 'blockLength=1e12', 'blockLength=abc', 'blockLength=3.5', 'blockLength=99999999999']);
  return {
    kind: 'signature-bad-query',
    bytes: requestBytes({ method: 'GET', target: `/v1/signatures/${f.basisPath}?${q}`, headers: [['authorization', `Bearer ${f.token}`]] }, '127.0.0.1'),
    expect: 'error',
    mayNotAnswer: false,
  };
}

export function nextFuzzCase(rng: SeededRandom, f: FuzzFixtures): FuzzCase {
  const roll = rng.next();
  if (roll < 0.15) return garbage(rng);
  if (roll < 0.6) return randomRawRequest(rng, f);
  return deepRequest(rng, f);
}

/** A malformed request sent with fetch (undici): its own header and body handling, keep-alive reuse. */
export interface FetchCase {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  expect: Expectation;
}

export function nextFetchCase(rng: SeededRandom, f: FuzzFixtures): FetchCase {
  const auth = { authorization: `Bearer ${rng.chance(0.8) ? f.token : `dbx_${rng.bytes(32).toString('base64url')}`}` };
  const lie = rng.bytes(32).toString('hex');
  const choice = rng.int(0, 4);
  if (choice === 0) {
    return { kind: 'fetch-put-hash-lies', method: 'PUT', path: `/v1/files/fetch-${rng.int(0, 99)}.bin`, headers: { ...auth, 'x-deltabox-content-hash': lie }, body: rng.bytes(rng.int(0, 300_000)), expect: 'error' };
  }
  if (choice === 1) {
    const body = rng.chance(0.5) ? rng.bytes(rng.int(0, 5_000)) : Buffer.from(f.validDelta.subarray(0, rng.int(0, f.validDelta.length)));
    const ifMatch = rng.chance(0.5) ? f.basisHash : lie;
    return { kind: 'fetch-patch-garbage', method: 'PATCH', path: `/v1/files/${f.basisPath}`, headers: { ...auth, 'content-type': 'application/vnd.deltabox.delta', 'if-match': `"${ifMatch}"`, 'x-deltabox-content-hash': lie }, body, expect: 'error' };
  }
  if (choice === 2) {
    const json = rng.pick(['{"from":', '{"from":"nope","to":"x"}', `{"from":"${f.basisPath}","to":"y","ifMatch":"${lie}"}`, '1e999', '"str"']);
    return { kind: 'fetch-move-garbage', method: 'POST', path: '/v1/moves', headers: { ...auth, 'content-type': 'application/json' }, body: Buffer.from(json), expect: 'error' };
  }
  if (choice === 3) {
    return { kind: 'fetch-batch-garbage', method: 'POST', path: '/v1/batch', headers: { ...auth, 'content-type': rng.pick(['multipart/form-data; boundary=zz', 'application/json', 'text/plain']) }, body: rng.bytes(rng.int(0, 10_000)), expect: 'error' };
  }
  const range = rng.pick(['bytes=999999999-', 'bytes=-0', 'bytes=5-2', 'bytes=0-0,1-1', 'items=0-1', 'bytes=abc']);
  return { kind: 'fetch-bad-range', method: 'GET', path: `/v1/files/${f.basisPath}`, headers: { ...auth, range }, expect: 'any' };
}
