/** Edit scripts for property tests: targets built from a basis by seeded inserts, deletes, moves, flips. */
import fc from 'fast-check';

export type Edit =
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'overwrite'; at: number; bytes: Uint8Array }
  | { kind: 'move'; from: number; length: number; to: number }
  | { kind: 'append'; bytes: Uint8Array }
  | { kind: 'truncate'; at: number };

/** Positions are fractions of the current length so every script applies to any basis. */
const frac = fc.double({ min: 0, max: 1, noNaN: true });
const smallBytes = fc.uint8Array({ minLength: 1, maxLength: 64 });

export const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: frac, bytes: smallBytes }),
  fc.record({ kind: fc.constant('delete' as const), at: frac, length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('overwrite' as const), at: frac, bytes: smallBytes }),
  fc.record({ kind: fc.constant('move' as const), from: frac, length: fc.integer({ min: 1, max: 2000 }), to: frac }),
  fc.record({ kind: fc.constant('append' as const), bytes: smallBytes }),
  fc.record({ kind: fc.constant('truncate' as const), at: frac }),
).map((e) => e as unknown as Edit);

/** Applies edits (positions as fractions) and returns the target and the number of new/changed bytes. */
export function applyEdits(basis: Uint8Array, edits: Array<Record<string, unknown>>): { target: Uint8Array; editBytes: number } {
  let cur = Buffer.from(basis);
  let editBytes = 0;
  for (const raw of edits) {
    const e = raw as Record<string, any>;
    const pos = (f: number) => Math.min(cur.length, Math.floor(f * cur.length));
    switch (e.kind) {
      case 'insert': {
        const at = pos(e.at);
        cur = Buffer.concat([cur.subarray(0, at), Buffer.from(e.bytes), cur.subarray(at)]);
        editBytes += e.bytes.length;
        break;
      }
      case 'delete': {
        const at = pos(e.at);
        cur = Buffer.concat([cur.subarray(0, at), cur.subarray(Math.min(cur.length, at + e.length))]);
        editBytes += 1;
        break;
      }
      case 'overwrite': {
        const at = pos(e.at);
        const n = Math.min(e.bytes.length, cur.length - at);
        cur = Buffer.from(cur);
        cur.set(e.bytes.subarray(0, n), at);
        editBytes += n;
        break;
      }
      case 'move': {
        const from = pos(e.from);
        const len = Math.min(e.length, cur.length - from);
        const piece = Buffer.from(cur.subarray(from, from + len));
        const rest = Buffer.concat([cur.subarray(0, from), cur.subarray(from + len)]);
        const to = Math.min(rest.length, Math.floor(e.to * rest.length));
        cur = Buffer.concat([rest.subarray(0, to), piece, rest.subarray(to)]);
        editBytes += 2;
        break;
      }
      case 'append':
        cur = Buffer.concat([cur, Buffer.from(e.bytes)]);
        editBytes += e.bytes.length;
        break;
      case 'truncate':
        cur = cur.subarray(0, pos(e.at));
        editBytes += 1;
        break;
    }
  }
  return { target: new Uint8Array(cur), editBytes };
}
