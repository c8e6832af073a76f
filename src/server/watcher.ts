import fs from 'node:fs';
import path from 'node:path';
import type { Engine } from '../store/index.ts';

/**
 * Files the watcher picks up: the log files `vigil ingest DIR` would take, less `.csv` and `.txt`
 * (a watched folder takes OCSF only, and reference files such as people.csv may sit beside it).
 */
const LOG_FILE = /\.(jsonl|ndjson|json|log)(\.gz)?$/i;

export interface WatcherOptions {
  dir: string;
  /** How often the folder is scanned, in ms (fs events only make it sooner). */
  intervalMs: number;
  /** Files that became ready in one look, in name order (ingest reads small ones as one batch). */
  ingest: (files: string[]) => Promise<unknown>;
  log: (msg: string) => void;
}

/**
 * Watches a folder for new or grown log files and ingests each once it has stopped changing (same
 * size and mtime on two looks), so a file still being written is not read half-way. Ingest is
 * idempotent, so a grown file is simply ingested again and only its new lines are stored. Files the
 * ledger already holds at the same size are skipped on start, so a restart does not re-read a folder.
 */
export class FolderWatcher {
  private readonly seen = new Map<string, string>();
  private readonly candidates = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private fsWatch: fs.FSWatcher | null = null;
  private scanning: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly engine: Engine,
    private readonly opts: WatcherOptions,
  ) {}

  async start(): Promise<void> {
    fs.mkdirSync(this.opts.dir, { recursive: true });
    const done = await this.engine.query<{ source_file: string; bytes: number }>(
      'SELECT source_file, max(bytes) AS bytes FROM ingests WHERE startsWith(source_file, {dir:String}) GROUP BY source_file',
      { dir: path.resolve(this.opts.dir) + path.sep },
    );
    const known = new Map(done.map((r) => [r.source_file, Number(r.bytes)]));
    for (const f of this.list()) {
      const st = fs.statSync(f);
      if (known.get(f) === st.size) this.seen.set(f, stamp(st));
    }
    try {
      this.fsWatch = fs.watch(this.opts.dir, { recursive: true }, () => this.poke());
    } catch {
      // Recursive watching is not available everywhere; the periodic scan still finds everything.
    }
    this.timer = setInterval(() => this.poke(), this.opts.intervalMs);
    this.poke();
  }

  private list(): string[] {
    const out: string[] = [];
    const walk = (d: string) => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(d, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile() && LOG_FILE.test(e.name)) out.push(path.resolve(p));
      }
    };
    walk(this.opts.dir);
    return out.sort();
  }

  private poke(): void {
    if (this.closed || this.scanning) return;
    this.scanning = this.scan()
      .catch((err) => this.opts.log(`watch: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        this.scanning = null;
      });
  }

  /**
   * One look at the folder: files unchanged since the previous look are ingested together, in name
   * order (a folder full of files at start is read in a few batches, not file by file).
   */
  private async scan(): Promise<void> {
    const ready: string[] = [];
    for (const f of this.list()) {
      let st: fs.Stats;
      try {
        st = fs.statSync(f);
      } catch {
        continue;
      }
      const s = stamp(st);
      if (this.seen.get(f) === s) continue;
      if (this.candidates.get(f) !== s) {
        this.candidates.set(f, s);
        continue;
      }
      this.candidates.delete(f);
      this.seen.set(f, s);
      ready.push(f);
    }
    if (this.closed || ready.length === 0) return;
    try {
      await this.opts.ingest(ready);
    } catch (err) {
      if (ready.length === 1) return this.failed(ready[0]!, err);
      // One bad file (a damaged .gz) must not hold back the others: each is tried on its own.
      for (const f of ready) {
        if (this.closed) return;
        await this.opts.ingest([f]).catch((e: unknown) => this.failed(f, e));
      }
    }
  }

  /** Refused (queue full) or failed: forgotten, so that the next look tries it again. */
  private failed(file: string, err: unknown): void {
    this.seen.delete(file);
    this.opts.log(`watch: ingest of a file failed: ${err instanceof Error ? err.message : String(err)}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.fsWatch?.close();
    await this.scanning;
  }
}

function stamp(st: fs.Stats): string {
  return `${st.size}:${st.mtimeMs}`;
}
