import { once } from 'node:events';
import { closeSync, createWriteStream, mkdirSync, openSync, type WriteStream, write } from 'node:fs';
import path from 'node:path';
import { createGzip, type Gzip } from 'node:zlib';
import type { ScenarioTruth } from './truth.ts';
import type { World } from './world.ts';

/**
 * Where generated events go. The unit is a batch of JSON lines (JSONEachRow, each ending in
 * '\n', UTF-8) for one UTC day; days arrive in order and never revisit. A file sink writes one
 * file per day; a store sink can insert the same text straight into a table.
 */
export interface EventSink {
  /** `lines` is only valid during the call (the stream reuses the buffer): copy what you keep. */
  write(day: string, lines: Uint8Array): Promise<void>;
  close(): Promise<void>;
  /** Optional: the cast and the scenarios' truths, once, before the first day (store sinks). */
  begin?(world: World, truths: readonly ScenarioTruth[]): Promise<void>;
  /**
   * 'rows': the sink takes TabSeparated rows of `sinks/rows.ts` (ROW_STRUCTURE) instead of JSON
   * lines; duplicate deliveries are then left out and counted through `duplicates`.
   */
  readonly encoding?: 'json' | 'rows';
  /** With 'rows': how many duplicate deliveries of `day` were left out (after its last write). */
  duplicates?(day: string, n: number): void;
  /** Optional: told each attack event's id and scenario before the chunk holding it is written. */
  attack?(eventId: string, scenario: string): void;
  /** Optional: where the stream may put a day's temporary sorted runs (default: the system's). */
  readonly spillDir?: string;
}

/**
 * events/YYYY-MM-DD.jsonl (or .jsonl.gz), one file per UTC day. Each chunk is copied into one of
 * two buffers and written by libuv's threads (or compressed by zlib's) while the next chunk is
 * generated; at most one write is in flight.
 */
export class JsonlFileSink implements EventSink {
  private day = '';
  private fd: number | null = null;
  private file: WriteStream | null = null;
  private gzip: Gzip | null = null;
  private inflight: Promise<void> = Promise.resolve();
  private readonly spare: Buffer[] = [];
  readonly spillDir: string;

  constructor(
    private readonly dir: string,
    private readonly gzipped: boolean,
  ) {
    mkdirSync(dir, { recursive: true });
    this.spillDir = dir;
  }

  async write(day: string, lines: Uint8Array): Promise<void> {
    if (day !== this.day) {
      await this.endDay();
      this.day = day;
      const file = path.join(this.dir, `${day}.jsonl${this.gzipped ? '.gz' : ''}`);
      if (this.gzipped) {
        this.file = createWriteStream(file);
        this.gzip = createGzip({ level: 6 });
        this.gzip.pipe(this.file);
      } else {
        this.fd = openSync(file, 'w');
      }
    }
    await this.inflight;
    if (this.gzip) {
      if (!this.gzip.write(Buffer.from(lines)))
        this.inflight = once(this.gzip, 'drain').then(() => undefined);
      return;
    }
    let copy = this.spare.pop();
    if (!copy || copy.length < lines.length) copy = Buffer.allocUnsafeSlow(Math.max(lines.length, 1 << 22));
    copy.set(lines);
    this.inflight = writeAll(this.fd!, copy, lines.length).then(() => {
      this.spare.push(copy);
    });
  }

  private async endDay(): Promise<void> {
    await this.inflight;
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
    const file = this.file;
    if (!file) return;
    const done = once(file, 'close');
    this.gzip?.end();
    await done;
    this.file = null;
    this.gzip = null;
  }

  close(): Promise<void> {
    return this.endDay();
  }
}

function writeAll(fd: number, buf: Buffer, length: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (done: number) => {
      if (done >= length) {
        resolve();
        return;
      }
      write(fd, buf, done, length - done, null, (err, n) => {
        if (err) reject(err);
        else step(done + n);
      });
    };
    step(0);
  });
}

/** Keeps lines in memory; for tests and for callers that post-process small runs. */
export class MemorySink implements EventSink {
  readonly days = new Map<string, string[]>();

  async write(day: string, lines: Uint8Array): Promise<void> {
    const list = this.days.get(day) ?? [];
    list.push(Buffer.from(lines).toString('utf8'));
    this.days.set(day, list);
  }

  async close(): Promise<void> {}

  lines(): string[] {
    const out: string[] = [];
    for (const day of [...this.days.keys()].sort()) {
      for (const chunk of this.days.get(day)!) for (const l of chunk.split('\n')) if (l) out.push(l);
    }
    return out;
  }
}
