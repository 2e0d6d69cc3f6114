/**
 * Readable log lines for a terminal: turns the server's pino JSON lines into `12:34:56 PUT /v1/files/a 200
 * 3.1 ms` and `12:34:56 WARN message`. `deltabox serve` uses it when its output is a TTY; logs that go to a
 * file or a collector stay JSON. Formatting only: what gets logged is decided in request-log.ts.
 */
import { Writable } from 'node:stream';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

interface LogLine {
  level?: number;
  time?: number;
  msg?: string;
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  responseTime?: number;
  err?: { message?: string };
  [key: string]: unknown;
}

/** Control characters (a file name with an escape sequence) are shown escaped, never sent to the terminal. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** One JSON log line as one readable line (the JSON itself when it is not a log line). */
export function formatLogLine(json: string): string {
  let line: LogLine;
  try {
    line = JSON.parse(json) as LogLine;
  } catch {
    return printable(json);
  }
  const time = new Date(line.time ?? Date.now()).toTimeString().slice(0, 8);
  const level = LEVELS[line.level ?? 30] ?? String(line.level);
  const failed = (line.level ?? 30) >= 50;
  if (line.req && line.res) {
    const request = `${line.req.method ?? '?'} ${line.req.url ?? '?'} ${line.res.statusCode ?? '?'} ${line.responseTime ?? '?'} ms`;
    return printable(`${time} ${failed ? `${level} ` : ''}${request}${line.err?.message ? ` (${line.err.message})` : ''}`);
  }
  const { level: _l, time: _t, msg, pid: _p, hostname: _h, err, ...rest } = line;
  const details = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const text = [msg ?? '', err?.message ? `(${err.message})` : '', ...details].filter(Boolean).join(' ');
  return printable(`${time} ${level} ${text}`);
}

/** A stream to give pino (`logger.stream`) that writes readable lines to `out`. */
export function readableLogStream(out: { write(text: string): unknown }): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) out.write(`${formatLogLine(l)}\n`);
      done();
    },
  });
}
