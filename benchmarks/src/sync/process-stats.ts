/**
 * Reads what Linux keeps about a process in /proc: peak RSS (VmHWM, and resetting it through clear_refs), CPU
 * time (own and of reaped children) and descendants. Used for the servers, which outlive one measured run.
 * It does not start or stop processes.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/** Clock ticks per second of /proc/PID/stat times (USER_HZ; 100 on every Linux build in practice). */
const USER_HZ = 100;

/** Peak resident set of `pid` in KiB, or undefined when it has gone. */
export function readPeakRssKb(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Resets VmHWM to the current RSS (writing 5 to clear_refs, Linux 4.0+); false when not allowed. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface CpuTimes {
  /** user + system of the process itself, ms. */
  ownMs: number;
  /** user + system of its children that it has waited for (and theirs), ms. */
  childrenMs: number;
}

/** CPU times of `pid` from /proc/PID/stat (fields 14-17). */
export function readCpuTimes(pid: number): CpuTimes | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const tick = (i: number): number => (Number(fields[i - 3]) * 1000) / USER_HZ;
    return { ownMs: tick(14) + tick(15), childrenMs: tick(16) + tick(17) };
  } catch {
    return undefined;
  }
}

/** Every live descendant of `pid` (children, grandchildren...), by scanning /proc. */
export function descendantsOf(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(name), ppid);
    } catch {
      // gone between readdir and read
    }
  }
  const found: number[] = [];
  const frontier = [pid];
  while (frontier.length > 0) {
    const parent = frontier.pop()!;
    for (const [child, ppid] of parentOf) {
      if (ppid === parent) {
        found.push(child);
        frontier.push(child);
      }
    }
  }
  return found;
}

/**
 * Samples the peak RSS of the descendants of `pid` (e.g. the processes an rsync daemon forks per connection)
 * until stopped; returns the sum over descendants of each one's VmHWM. Sampling misses processes that live
 * less than one period, and a peak reached in the last period before a process exits.
 */
export function sampleDescendantPeaks(pid: number, periodMs = 20, rescanEvery = 5): { stop(): number } {
  const peaks = new Map<number, number>();
  let known: number[] = [];
  let tick = 0;
  // Listing /proc costs ~4 ms: look for new descendants every few periods, re-read the known ones every period.
  const sample = (): void => {
    if (tick++ % rescanEvery === 0) known = descendantsOf(pid);
    for (const child of known) {
      const kb = readPeakRssKb(child);
      if (kb !== undefined) peaks.set(child, Math.max(peaks.get(child) ?? 0, kb));
    }
  };
  sample();
  const timer = setInterval(sample, periodMs);
  return {
    stop(): number {
      clearInterval(timer);
      let sum = 0;
      for (const kb of peaks.values()) sum += kb;
      return sum;
    },
  };
}
