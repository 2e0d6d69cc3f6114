/**
 * Reading a server's pino log file (one JSON line per request, written straight to the file so it survives a
 * SIGKILL): parsed lines, the lines that are bugs (5xx or error level), and request figures. It does not
 * start or stop anything.
 */
import { readFileSync } from 'node:fs';

export type LogLine = Record<string, unknown> & {
  level?: number;
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  responseTime?: number;
};

/** Parsed lines of a pino log (an unparsable line becomes `{ unparsed }`); `fromLine` skips earlier ones. */
export function readLogLines(logFile: string, fromLine = 0): LogLine[] {
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return [];
  }
  const out: LogLine[] = [];
  for (const line of text.split('\n').filter((l) => l.trim()).slice(fromLine)) {
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      out.push({ unparsed: line });
    }
  }
  return out;
}

/** Lines with a status >= 500 or at error level or above (each is a bug), shortened for a report. */
export function errorLines(lines: LogLine[]): string[] {
  return lines
    .filter((l) => (l.res?.statusCode ?? 0) >= 500 || (typeof l.level === 'number' && l.level >= 50))
    .map((l) => JSON.stringify(l).slice(0, 400));
}

/** The p-th percentile (nearest rank) of ascending `sorted`; 0 when empty. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface RequestFigures {
  requests: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  statuses: Record<string, number>;
}

/**
 * Response times and statuses of request lines. Long polls (`/v1/changes?...waitMs=`) are counted by status
 * but left out of the times: they wait on purpose.
 */
export function requestFigures(lines: LogLine[]): RequestFigures {
  const times: number[] = [];
  const statuses: Record<string, number> = {};
  for (const l of lines) {
    const s = l.res?.statusCode;
    if (s === undefined) continue;
    statuses[s] = (statuses[s] ?? 0) + 1;
    if (typeof l.responseTime === 'number' && !/[?&]waitMs=/.test(l.req?.url ?? '')) times.push(l.responseTime);
  }
  times.sort((a, b) => a - b);
  return {
    requests: times.length,
    p50Ms: percentile(times, 50),
    p95Ms: percentile(times, 95),
    p99Ms: percentile(times, 99),
    maxMs: times[times.length - 1] ?? 0,
    statuses,
  };
}

/** One line for a report. */
export function describeFigures(f: RequestFigures): string {
  return `${f.requests} requests (long polls aside): responseTime p50 ${f.p50Ms} ms, p95 ${f.p95Ms} ms, p99 ${f.p99Ms} ms, max ${f.maxMs} ms; statuses ${JSON.stringify(f.statuses)}`;
}
