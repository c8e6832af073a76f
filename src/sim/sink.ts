import { once } from 'node:events';
import { closeSync, createWriteStream, mkdirSync, openSync, type WriteStream, writeSync } from 'node:fs';
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
}

/**
 * events/YYYY-MM-DD.jsonl (or .jsonl.gz), one file per UTC day. Plain files are written with
 * synchronous large writes (nothing else waits on the event loop meanwhile); gzip runs in zlib's
 * worker threads while the next chunk is generated.
 */
export class JsonlFileSink implements EventSink {
  private day = '';
  private fd: number | null = null;
  private file: WriteStream | null = null;
  private gzip: Gzip | null = null;

  constructor(
    private readonly dir: string,
    private readonly gzipped: boolean,
  ) {
    mkdirSync(dir, { recursive: true });
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
    if (this.gzip) {
      if (!this.gzip.write(Buffer.from(lines))) await once(this.gzip, 'drain');
    } else {
      let done = 0;
      while (done < lines.length) done += writeSync(this.fd!, lines, done, lines.length - done);
    }
  }

  private async endDay(): Promise<void> {
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
