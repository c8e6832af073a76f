/**
 * A progress line on stderr for work that takes more than a couple of seconds. On a terminal it
 * rewrites one line; in a log (CI, a pipe) it prints a line at most every few seconds.
 */
export class Progress {
  private readonly started = Date.now();
  private lastPrint = 0;
  private shown = false;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(
    private readonly label: string,
    private readonly quietForMs = 2000,
  ) {}

  get elapsedSeconds(): number {
    return (Date.now() - this.started) / 1000;
  }

  update(text: string): void {
    const now = Date.now();
    if (now - this.started < this.quietForMs) return;
    if (!this.tty && now - this.lastPrint < 5000) return;
    this.lastPrint = now;
    this.shown = true;
    const line = `${this.label}: ${text}`;
    if (this.tty) process.stderr.write(`\r\x1b[2K${line}`);
    else process.stderr.write(`${line}\n`);
  }

  done(text?: string): void {
    if (this.tty && this.shown) process.stderr.write('\r\x1b[2K');
    if (text) process.stderr.write(`${this.label}: ${text}\n`);
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v >= 100 || i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatRate(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(0);
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(0)}s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m}m${Math.round(seconds % 60)}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}
