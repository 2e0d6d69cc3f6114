/**
 * Writes the big-file inputs of a run into the data folder: the basis and its edited versions, the log and its
 * grown version, the 1 GiB file and its edit. Seeded (same bytes everywhere). Trees are written by the scenarios
 * into the lanes' folders directly (sync-data.ts).
 */
import { closeSync, copyFileSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { planScatteredEdits, writeAppendedFile, writeEditedFile, writeRandomFile, type Edit } from '../lib/seeded-data.js';
import type { BenchSizes } from './bench-sizes.js';
import { logLines } from './sync-data.js';

export interface BenchData {
  big: { basis: string; scattered: string; appended: string; edits: Edit[] };
  log: { basis: string; grown: string; lines: number };
  huge?: { basis: string; scattered: string; edits: Edit[] };
  treeBytes?: number;
  tinyTreeBytes?: number;
  describe(): unknown;
}

/** Writes a log of about `bytes` (whole lines) and returns how many lines it holds. */
function writeLog(path: string, bytes: number, seed: string): number {
  const fd = openSync(path, 'w');
  let lines = 0;
  try {
    for (let written = 0; written < bytes; ) {
      const chunk = logLines(seed, lines, Math.min(4 * 1024 * 1024, bytes - written));
      for (let at = 0; at < chunk.length; ) at += writeSync(fd, chunk, at);
      written += chunk.length;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    }
  } finally {
    closeSync(fd);
  }
  return lines;
}

export function prepareData(dir: string, sizes: BenchSizes, log: (l: string) => void, want: { big: boolean; huge: boolean }): BenchData {
  mkdirSync(dir, { recursive: true });
  const p = (name: string): string => join(dir, name);
  const data: BenchData = {
    big: { basis: p('big.basis'), scattered: p('big.scattered'), appended: p('big.appended'), edits: [] },
    log: { basis: p('log.basis'), grown: p('log.grown'), lines: 0 },
    describe: () => ({
      bigBytes: sizes.bigBytes,
      bigEdits: data.big.edits,
      appendBytes: sizes.appendBytes,
      logBytes: sizes.logBytes,
      logLines: data.log.lines,
      logGrowthBytes: sizes.logGrowthBytes,
      hugeBytes: sizes.hugeBytes,
      hugeEdits: data.huge?.edits,
      tree: sizes.tree,
      treeBytes: data.treeBytes,
      tinyTree: sizes.tinyTree,
      tinyTreeBytes: data.tinyTreeBytes,
    }),
  };
  if (want.big) {
    log(`writing ${sizes.bigBytes / 2 ** 20} MiB basis and its edited versions, ${sizes.logBytes / 2 ** 20} MiB log`);
    writeRandomFile(data.big.basis, sizes.bigBytes, 'big');
    data.big.edits = planScatteredEdits(sizes.bigBytes, sizes.scatteredEdits, 'big-edits');
    writeEditedFile(data.big.basis, sizes.bigBytes, data.big.scattered, data.big.edits, 'big-edit-bytes');
    writeAppendedFile(data.big.basis, sizes.bigBytes, data.big.appended, sizes.appendBytes, 'big-append');
    data.log.lines = writeLog(data.log.basis, sizes.logBytes, 'log');
    copyFileSync(data.log.basis, data.log.grown);
    const more = logLines('log', data.log.lines, sizes.logGrowthBytes);
    const fd = openSync(data.log.grown, 'a');
    writeSync(fd, more);
    closeSync(fd);
  }
  if (want.huge) {
    log(`writing ${sizes.hugeBytes / 2 ** 20} MiB file for the memory run`);
    const huge = { basis: p('huge.basis'), scattered: p('huge.scattered'), edits: planScatteredEdits(sizes.hugeBytes, sizes.scatteredEdits, 'huge-edits') };
    writeRandomFile(huge.basis, sizes.hugeBytes, 'huge');
    writeEditedFile(huge.basis, sizes.hugeBytes, huge.scattered, huge.edits, 'huge-edit-bytes');
    data.huge = huge;
  }
  return data;
}
