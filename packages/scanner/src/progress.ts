/**
 * A one-line progress display for a terminal (files and bytes left, rate, ETA), redrawn twice a second
 * while work is pending; it writes nothing when the stream is not a TTY. Reads the scanner's counters only.
 */
import type { ProgressSnapshot } from './scanner.js';

export interface ProgressSource {
  progress(): ProgressSnapshot;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The line for one snapshot; `rate` in bytes per second. Pure. */
export function progressLine(p: ProgressSnapshot, rate: number): string {
  if (p.offline) return `offline: ${p.pendingPaths} change(s) queued, retrying`;
  const eta = rate > 0 && p.pendingBytes > 0 ? `  ETA ${formatDuration((p.pendingBytes / rate) * 1000)}` : '';
  return `syncing: ${p.pendingPaths} file(s), ${formatBytes(p.pendingBytes)} left  ${formatBytes(rate)}/s${eta}`;
}

export class ProgressDisplay {
  readonly #stream: NodeJS.WriteStream;
  readonly #source: ProgressSource;
  #timer: NodeJS.Timeout | undefined;
  #lastBytes = 0;
  #lastMs = Date.now();
  #rate = 0;
  #shown = false;

  constructor(source: ProgressSource, stream: NodeJS.WriteStream = process.stderr) {
    this.#source = source;
    this.#stream = stream;
  }

  start(): void {
    if (!this.#stream.isTTY) return;
    this.#timer = setInterval(() => this.#draw(), 500);
    this.#timer.unref();
  }

  #draw(): void {
    const p = this.#source.progress();
    const now = Date.now();
    const instant = ((p.sentFileBytes - this.#lastBytes) * 1000) / Math.max(1, now - this.#lastMs);
    this.#rate = this.#rate === 0 ? instant : 0.7 * this.#rate + 0.3 * instant; // smoothed
    this.#lastBytes = p.sentFileBytes;
    this.#lastMs = now;
    if (p.pendingPaths === 0 && !p.offline) {
      this.#clear();
      return;
    }
    this.#stream.write(`\r\x1b[2K${progressLine(p, this.#rate)}`);
    this.#shown = true;
  }

  #clear(): void {
    if (this.#shown) this.#stream.write('\r\x1b[2K');
    this.#shown = false;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#clear();
  }
}
