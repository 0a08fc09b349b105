/**
 * A one-line progress bar for a terminal: bytes, rate and ETA, redrawn in
 * place a few times a second. Only used when stderr is a TTY; elsewhere the
 * command line stays quiet.
 */
export interface ProgressOutput {
  write(text: string): unknown;
  columns?: number;
}

const REDRAW_MS = 200;

export class ProgressBar {
  private total = 0;
  private done = 0;
  private resumed = 0;
  private readonly startedAt: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: ProgressOutput,
    private label: string,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.startedAt = now();
  }

  start(total: number, resumed: number): void {
    this.total = total;
    this.done = resumed;
    this.resumed = resumed;
    this.timer = setInterval(() => this.draw(), REDRAW_MS);
    this.timer.unref();
    this.draw();
  }

  add(bytes: number): void {
    this.done += bytes;
  }

  /** For a job whose size grows as it is discovered (a prefix being listed), and whose label counts files. */
  update(total: number, label: string): void {
    this.total = total;
    this.label = label;
  }

  /** Clears the bar; `summary` (if any) replaces it. */
  stop(summary?: string): void {
    if (this.timer) clearInterval(this.timer);
    this.out.write(`\r\x1b[2K${summary ? `${summary}\n` : ''}`);
  }

  /** The line as drawn now (exposed for tests). */
  line(): string {
    const seconds = Math.max((this.now() - this.startedAt) / 1000, 1e-3);
    const rate = (this.done - this.resumed) / seconds;
    const fraction = this.total > 0 ? this.done / this.total : 1;
    const eta = rate > 0 ? (this.total - this.done) / rate : Number.NaN;
    const stats = `${(fraction * 100).toFixed(1).padStart(5)}% ${formatBytes(this.done)}/${formatBytes(this.total)} ${formatBytes(rate)}/s ETA ${formatDuration(eta)}`;
    const width = Math.max(10, Math.min(40, (this.out.columns ?? 80) - stats.length - this.label.length - 6));
    const filled = Math.round(fraction * width);
    return `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${stats}`;
  }

  private draw(): void {
    this.out.write(`\r\x1b[2K${this.line()}`);
  }
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

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}
