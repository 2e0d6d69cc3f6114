/**
 * A one-line progress display for a terminal (files and bytes left, rate, ETA), redrawn twice a second
 * while work is pending; it writes nothing when the stream is not a TTY. Reads the scanner's counters only.
 */
import type { ProgressSnapshot } from './scanner.js';

export interface ProgressSource {
  progress(): ProgressSnapshot;
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '--';
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

/** Below this rate (bytes per second) nothing is really moving: no ETA is made up from it. */
const MIN_RATE_FOR_ETA = 1;
/** ETAs beyond this are shown as a bound, not a number of hours with 24 digits. */
const MAX_ETA_MS = 100 * 3_600_000;

/** "ETA 1m05s", "ETA >100h", or "ETA --" when unknown (nothing moving, nothing known to send). Pure. */
export function formatEta(pendingBytes: number, rate: number): string {
  if (!(rate >= MIN_RATE_FOR_ETA) || !(pendingBytes > 0)) return 'ETA --';
  const ms = (pendingBytes / rate) * 1000;
  if (!Number.isFinite(ms) || ms > MAX_ETA_MS) return `ETA >${MAX_ETA_MS / 3_600_000}h`;
  return `ETA ${formatDuration(ms)}`;
}

/** The line for one snapshot; `rate` in bytes per second. Pure. */
export function progressLine(p: ProgressSnapshot, rate: number): string {
  if (p.offline) return `offline: ${p.pendingPaths} change(s) queued, retrying`;
  const speed = rate >= MIN_RATE_FOR_ETA ? rate : 0;
  const deltas = p.deltaPaths > 0 ? ` (+${p.deltaPaths} delta(s) to compute)` : '';
  return `syncing: ${p.pendingPaths} file(s), ${formatBytes(p.pendingBytes)} to send${deltas}  ${formatBytes(speed)}/s  ${formatEta(p.pendingBytes, rate)}`;
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
