/**
 * The states a power cut could leave, from a recorded operation log (fs-recorder.ts), in the spirit of ALICE
 * and CrashMonkey, and their materialisation in a folder. The model, for a cut after operation k:
 * - Names (create, rename, link, unlink, mkdir, rmdir) persist in program order as a prefix (journaled
 *   metadata), at least up to the last one whose folder was fsynced before the cut, at most up to k.
 * - A file's contents (writes, chmod, utimes) persist per inode as a prefix too: at least up to its last
 *   fsync before the cut; an unsynced tail may be lost (a torn file, if a name already shows it).
 * - The database is a snapshot taken after each commit: the last one before the cut or, as WAL with
 *   synchronous=NORMAL allows, the one before it.
 * It does not judge the states: the test does.
 */
import { copyFileSync, cpSync, readFileSync, chmodSync, linkSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FsOp } from './fs-recorder.js';

const NAME_OPS = new Set(['create', 'rename', 'link', 'unlink', 'mkdir', 'rmdir']);
type DataOp = Extract<FsOp, { op: 'write' | 'chmod' | 'utimes' }>;

/** One crash state: the cut and the choices made within what the model allows. */
export interface CrashState {
  /** Operations 0..cut-1 had been issued. */
  cut: number;
  /** How many name operations of the cut persisted. */
  names: number;
  /** Per inode, how many of its data operations persisted. */
  data: Map<number, number>;
  /** The database snapshot (0: the one taken before recording). */
  db: number;
  /** Acknowledgements issued before the cut. */
  acks: string[];
}

const parentOf = (path: string): string => (path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '');

/** The folders whose fsync makes a name operation durable. */
function dirsOf(op: FsOp): string[] {
  switch (op.op) {
    case 'rename':
    case 'link':
      return [parentOf(op.to)];
    case 'create':
    case 'unlink':
    case 'mkdir':
    case 'rmdir':
      return [parentOf(op.path)];
    default:
      return [];
  }
}

/** Bounds of one cut: the durable minimum and the issued maximum of each choice. */
function boundsAt(ops: readonly FsOp[], cut: number): { minNames: number; maxNames: number; data: Map<number, { min: number; max: number }>; dbs: number[]; acks: string[] } {
  const names: FsOp[] = [];
  let minNames = 0;
  const data = new Map<number, { min: number; max: number }>();
  const dbs = [0];
  const acks: string[] = [];
  for (const op of ops.slice(0, cut)) {
    if (NAME_OPS.has(op.op)) names.push(op);
    else if (op.op === 'write' || op.op === 'chmod' || op.op === 'utimes') {
      const d = data.get(op.inode) ?? { min: 0, max: 0 };
      d.max++;
      data.set(op.inode, d);
    } else if (op.op === 'fsync-file') {
      const d = data.get(op.inode);
      if (d) d.min = d.max;
    } else if (op.op === 'fsync-dir') {
      for (let i = names.length - 1; i >= minNames; i--) {
        if (dirsOf(names[i]!).includes(op.path)) {
          minNames = i + 1;
          break;
        }
      }
    } else if (op.op === 'datasync-file') {
      // Promises nothing here (fs-recorder.ts): the states stay a superset of what a power cut can leave.
    } else if (op.op === 'mark') {
      if (op.db !== undefined) dbs.push(op.db);
      if (op.ack !== undefined) acks.push(op.ack);
    }
  }
  return { minNames, maxNames: names.length, data, dbs, acks };
}

/** A small seeded generator (mulberry32): the same states on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * For every cut (after each operation, and the whole log): the least durable state, the most complete one,
 * and `randomPerCut` seeded choices in between; at most `limit` states, spread evenly over the cuts.
 */
export function crashStates(ops: readonly FsOp[], opts: { seed: number; randomPerCut: number; limit: number }): CrashState[] {
  const random = seeded(opts.seed);
  const pick = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
  const out: CrashState[] = [];
  for (let cut = 0; cut <= ops.length; cut++) {
    const b = boundsAt(ops, cut);
    const last = b.dbs[b.dbs.length - 1]!;
    const previous = b.dbs[Math.max(0, b.dbs.length - 2)]!;
    const minimal = new Map([...b.data].map(([inode, d]) => [inode, d.min]));
    const maximal = new Map([...b.data].map(([inode, d]) => [inode, d.max]));
    out.push({ cut, names: b.minNames, data: minimal, db: previous, acks: b.acks });
    out.push({ cut, names: b.maxNames, data: maximal, db: last, acks: b.acks });
    for (let r = 0; r < opts.randomPerCut; r++) {
      const data = new Map([...b.data].map(([inode, d]) => [inode, pick(d.min, d.max)]));
      out.push({ cut, names: pick(b.minNames, b.maxNames), data, db: random() < 0.5 ? previous : last, acks: b.acks });
    }
  }
  if (out.length <= opts.limit) return out;
  const step = out.length / opts.limit;
  return Array.from({ length: opts.limit }, (_, i) => out[Math.floor(i * step)]!);
}

/** The bytes, mode and times of an inode after its first `count` data operations. */
function contentOf(ops: readonly FsOp[], inode: number, count: number, base: Buffer): { bytes: Buffer; mode?: number; times?: [unknown, unknown] } {
  let bytes = base;
  let mode: number | undefined;
  let times: [unknown, unknown] | undefined;
  const mine = ops.filter((op): op is DataOp => (op.op === 'write' || op.op === 'chmod' || op.op === 'utimes') && op.inode === inode).slice(0, count);
  for (const op of mine) {
    if (op.op === 'write') {
      const end = op.position + op.data.length;
      const next = Buffer.alloc(Math.max(bytes.length, end));
      bytes.copy(next);
      op.data.copy(next, op.position);
      bytes = next;
    } else if (op.op === 'chmod') mode = op.mode;
    else times = [op.atime, op.mtime];
  }
  return { bytes, mode, times };
}

/**
 * Builds `state` in `dir` (created): the snapshot taken before recording, the persisted name operations
 * replayed in order, each file given the contents that persisted, the chosen database snapshot.
 * `dbSnapshots[n]` is the folder holding snapshot n's database files.
 */
export function materialise(dir: string, snapshot: string, dbSnapshots: readonly string[], ops: readonly FsOp[], state: CrashState, preexisting: ReadonlyMap<number, string>): void {
  cpSync(snapshot, dir, { recursive: true });
  const at = (p: string): string => join(dir, ...p.split('/'));
  const inodeAt = new Map<string, number>();
  for (const [inode, path] of preexisting) inodeAt.set(path, inode);
  const written = new Set<number>();
  const fill = (path: string, inode: number): void => {
    if (written.has(inode)) return;
    written.add(inode);
    const base = preexisting.has(inode) ? readFileSync(join(snapshot, ...preexisting.get(inode)!.split('/'))) : Buffer.alloc(0);
    const c = contentOf(ops, inode, state.data.get(inode) ?? 0, base);
    writeFileSync(at(path), c.bytes); // rewrites in place: every hard link of the inode sees it
    if (c.mode !== undefined) chmodSync(at(path), c.mode);
    if (c.times) utimesSync(at(path), c.times[0] as string, c.times[1] as string);
  };
  let names = 0;
  for (const op of ops.slice(0, state.cut)) {
    if (!NAME_OPS.has(op.op)) continue;
    if (names++ >= state.names) break;
    if (op.op === 'create') {
      writeFileSync(at(op.path), '');
      inodeAt.set(op.path, op.inode);
      fill(op.path, op.inode);
    } else if (op.op === 'rename') {
      renameSync(at(op.from), at(op.to));
      moveInode(inodeAt, op.from, op.to);
    } else if (op.op === 'link') {
      linkSync(at(op.from), at(op.to));
      if (inodeAt.has(op.from)) inodeAt.set(op.to, inodeAt.get(op.from)!);
    } else if (op.op === 'unlink') {
      unlinkSync(at(op.path));
      inodeAt.delete(op.path);
    } else if (op.op === 'mkdir') mkdirSync(at(op.path));
    else if (op.op === 'rmdir') rmdirSync(at(op.path));
  }
  // Files of the snapshot whose data operations persisted (none in today's commit path, but modelled).
  for (const [path, inode] of inodeAt) if (preexisting.has(inode) && (state.data.get(inode) ?? 0) > 0) fill(path, inode);
  const stateDir = join(dir, '.deltabox');
  for (const name of readdirSync(stateDir)) if (name.startsWith('state.db')) rmSync(join(stateDir, name));
  for (const name of readdirSync(dbSnapshots[state.db]!)) copyFileSync(join(dbSnapshots[state.db]!, name), join(stateDir, name));
}

function moveInode(inodeAt: Map<string, number>, from: string, to: string): void {
  const inode = inodeAt.get(from);
  inodeAt.delete(from);
  if (inode !== undefined) inodeAt.set(to, inode);
  else inodeAt.delete(to);
}
