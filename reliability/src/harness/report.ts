/**
 * What a scenario reports: trials, faults injected, files checked, mismatches (must be 0), plus failures
 * (anything else that went wrong), bugs (known defects it observed, each with an id) and notes (figures).
 */

export interface ScenarioResult {
  name: string;
  seed: number;
  trials: number;
  faults: number;
  filesChecked: number;
  mismatches: number;
  /** Broken invariants other than content mismatches (each one fails the run). */
  failures: string[];
  /** Observed known bugs (see docs/RELIABILITY.md §Bugs); reported, not counted as failures. */
  bugs: string[];
  /** Figures worth recording: attempts counted, latencies, RSS... */
  notes: string[];
  elapsedMs: number;
}

export function newResult(name: string, seed: number): ScenarioResult {
  return { name, seed, trials: 0, faults: 0, filesChecked: 0, mismatches: 0, failures: [], bugs: [], notes: [], elapsedMs: 0 };
}

export function summaryLine(r: ScenarioResult): string {
  const status = r.mismatches === 0 && r.failures.length === 0 ? 'ok' : 'FAILED';
  return (
    `scenario ${r.name}: trials ${r.trials}, faults injected ${r.faults}, files checked ${r.filesChecked}, ` +
    `mismatches ${r.mismatches}, failures ${r.failures.length}, bugs seen ${r.bugs.length} ` +
    `(seed ${r.seed}, ${(r.elapsedMs / 1000).toFixed(1)} s) ${status}`
  );
}

export function isClean(r: ScenarioResult): boolean {
  return r.mismatches === 0 && r.failures.length === 0;
}

/** An error's message with its causes, one level after another. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    parts.push(e instanceof Error ? e.message : String(e));
    e = (e as { cause?: unknown }).cause;
  }
  return parts.join(' <- ');
}
