import { once } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { createGzip, type Gzip } from 'node:zlib';
import type { ScenarioTruth } from './truth.ts';
import type { World } from './world.ts';

/**
 * Where generated events go. The unit is a batch of JSON lines (JSONEachRow, each ending in
 * '\n') for one UTC day; days arrive in order and never revisit. A file sink writes one file per
 * day; a store sink can insert the same text straight into a table.
 */
export interface EventSink {
  write(day: string, lines: string): Promise<void>;
  close(): Promise<void>;
  /** Optional: the cast and the scenarios' truths, once, before the first day (store sinks). */
  begin?(world: World, truths: readonly ScenarioTruth[]): Promise<void>;
  /** Optional: told each attack event's id and scenario before the chunk holding it is written. */
  attack?(eventId: string, scenario: string): void;
}

/** events/YYYY-MM-DD.jsonl (or .jsonl.gz), one file per UTC day, written as a stream. */
export class JsonlFileSink implements EventSink {
  private day = '';
  private file: WriteStream | null = null;
  private gzip: Gzip | null = null;

  constructor(
    private readonly dir: string,
    private readonly gzipped: boolean,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  async write(day: string, lines: string): Promise<void> {
    if (day !== this.day) {
      await this.endDay();
      this.day = day;
      const file = path.join(this.dir, `${day}.jsonl${this.gzipped ? '.gz' : ''}`);
      this.file = createWriteStream(file);
      if (this.gzipped) {
        this.gzip = createGzip({ level: 6 });
        this.gzip.pipe(this.file);
      }
    }
    const target = this.gzip ?? this.file!;
    if (!target.write(lines)) await once(target, 'drain');
  }

  private async endDay(): Promise<void> {
    const file = this.file;
    if (!file) return;
    const done = once(file, 'close');
    if (this.gzip) this.gzip.end();
    else file.end();
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

  async write(day: string, lines: string): Promise<void> {
    const list = this.days.get(day) ?? [];
    list.push(lines);
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
