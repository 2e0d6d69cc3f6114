/**
 * A small real filesystem to fill: `mount -t tmpfs -o size=N tmpfs DIR` (needs root or CAP_SYS_ADMIN),
 * and a filler file that takes the rest of the space until it is removed.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallDisk {
  dir: string;
  /** Fills the disk with `name` until ENOSPC; returns the bytes written. */
  fill(name?: string): number;
  free(name?: string): void;
  unmount(): void;
}

/** Mounts a tmpfs of `sizeBytes`; throws with the reason when mounting is not permitted. */
export function mountSmallDisk(sizeBytes: number): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'dbx-rel-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim();
    throw new Error(`mount -t tmpfs refused: ${stderr || (err as Error).message}`);
  }
  return {
    dir,
    fill(name = 'filler') {
      const fd = openSync(join(dir, name), 'w');
      const chunk = Buffer.alloc(64 * 1024, 0xaa);
      let written = 0;
      try {
        for (;;) written += writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        closeSync(fd);
      }
      // Partial pages: keep writing single bytes until nothing fits.
      return written;
    },
    free(name = 'filler') {
      rmSync(join(dir, name), { force: true });
    },
    unmount() {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
