import fs from 'node:fs';
import path from 'node:path';
import { type IngestCounts, ingestInputs } from '../sources/index.ts';
import type { Workspace } from '../store/index.ts';
import type { Domain } from './domain.ts';

/** Raised when the intake queue is full: the caller should retry later (HTTP 503 + Retry-After). */
export class Busy extends Error {}

export interface LiveOptions {
  /** Detection window in seconds (event time); default: the site settings' runner window. */
  windowSeconds?: number | undefined;
  /** Ingests waiting at most; more are refused with Busy. */
  maxPending: number;
  /** Called with a one-line message for operators (never personal data). */
  log?: (msg: string) => void;
  /** Called after a detection pass that may have changed incidents (and after the first pass). */
  onDetected?: () => void;
}

/** Figures for the data-health page, all from this process's own work since it started. */
export interface LiveStats {
  started_at: string;
  pending: number;
  ingests: number;
  read: number;
  stored: number;
  quarantined: number;
  duplicates: number;
  /** Events stored per second over the last minute of wall time. */
  rate_per_s: number;
  /** Newest event time seen by this process (the watermark detection follows). */
  watermark: string | null;
  /** Event time up to which detection has run. */
  detected_until: string | null;
  detection_runs: number;
  detection_seconds_last: number | null;
  detection_error: string | null;
  /** Wall-clock seconds since the watermark's event was ingested without detection catching up. */
  detection_lag_windows: number;
  generation: number;
}

/**
 * Continuous operation. Every ingest (HTTP intake, watched folder) runs through one serial lane,
 * because an ingest reconciles by counting the tables before and after it: two at once would
 * count each other's rows. Detection runs in its own lane behind it, following the event-time
 * watermark: whenever the newest event crosses a window boundary, every complete window up to it
 * is evaluated, so an attack that starts while the server runs is judged at the end of its window.
 * Late events (older than what detection already covered) make it re-run from their window; the
 * runner is idempotent, so that only adds what the late events reveal.
 */
export class Live {
  private ingestChain: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private watermarkMs: number | null = null;
  private detectedUntilMs: number | null = null;
  private late = false;
  private timing = { windowSeconds: 300, settleSeconds: 60 };
  private detecting: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private readonly recent: { at: number; stored: number }[] = [];
  private readonly stats = {
    ingests: 0,
    read: 0,
    stored: 0,
    quarantined: 0,
    duplicates: 0,
    detection_runs: 0,
    detection_seconds_last: null as number | null,
    detection_error: null as string | null,
    generation: 0,
  };
  private readonly startedAt = new Date();

  constructor(
    private readonly ws: Workspace,
    private readonly domain: Domain,
    private readonly opts: LiveOptions,
  ) {}

  /** Reads where the store and detection stand, and catches detection up with stored events. */
  async start(): Promise<void> {
    const timing = await this.domain.detectionTiming(this.ws.engine);
    this.timing = {
      ...timing,
      ...(this.opts.windowSeconds ? { windowSeconds: this.opts.windowSeconds } : {}),
    };
    const [row] = await this.ws.engine.query<{ n: number; hi: number }>(
      `SELECT count() AS n, ${this.ws.engine.dialect.sqlEpochMs('max(time)')} AS hi FROM events`,
    );
    if (row && row.n > 0) this.watermarkMs = Number(row.hi);
    this.kickDetection();
  }

  get windowSeconds(): number {
    return this.timing.windowSeconds;
  }

  get maxPending(): number {
    return this.opts.maxPending;
  }

  /** A counter that changes whenever stored data or incidents may have changed (for caches). */
  get generation(): number {
    return this.stats.generation;
  }

  /**
   * Ingests a file (or several in one call, as a watched folder's ready files) through the serial
   * lane, exactly as `vigil ingest FILE…` would. The lane position is taken when this is called,
   * so a request body still being spooled (`file` as a promise) keeps its arrival order while the
   * body before it is ingested. A spooled body (`spooled`) is moved to
   * one fixed name per format first, so every HTTP intake is recorded under the same source
   * ("…/intake/http-intake.jsonl") instead of one temp name per request, and deleted afterwards.
   */
  async ingest(
    file: string | Promise<string> | readonly string[],
    opts: { spooled?: boolean } = {},
  ): Promise<IngestCounts> {
    if (this.closed || this.pending >= this.opts.maxPending) {
      // Refused: a spooled body is not kept.
      if (opts.spooled)
        Promise.resolve(file).then(
          (f) => typeof f === 'string' && fs.rmSync(f, { force: true }),
          () => undefined,
        );
      throw new Busy(this.closed ? 'server is shutting down' : `intake queue full (${this.pending} waiting)`);
    }
    this.pending++;
    const run = this.ingestChain.then(async () => {
      let target: string | null = null;
      try {
        const source = await file;
        if (typeof source !== 'string') return await this.ingestNow(source);
        target = source;
        if (opts.spooled) {
          target = path.join(
            path.dirname(source),
            source.endsWith('.gz') ? 'http-intake.jsonl.gz' : 'http-intake.jsonl',
          );
          fs.renameSync(source, target);
        }
        return await this.ingestNow([target]);
      } finally {
        this.pending--;
        if (opts.spooled && target) fs.rmSync(target, { force: true });
      }
    });
    this.ingestChain = run.catch(() => undefined);
    return run;
  }

  private async ingestNow(files: readonly string[]): Promise<IngestCounts> {
    const engine = this.ws.engine;
    const since = Math.floor(Date.now() / 1000);
    const { counts } = await ingestInputs(this.ws, files);
    this.stats.ingests++;
    this.stats.read += counts.read;
    this.stats.stored += counts.stored;
    this.stats.quarantined += counts.quarantined;
    this.stats.duplicates += counts.duplicates;
    this.recent.push({ at: Date.now(), stored: counts.stored });
    if (counts.stored > 0) {
      this.stats.generation++;
      // The ledger rows just written (one per file, or per piece of a large one) say which event
      // times these inputs covered. Earlier rows of the same second under the same labels cannot be
      // told apart; taking them too only widens the span.
      const [span] = await engine.query<{ lo: number; hi: number }>(
        `SELECT ${engine.dialect.sqlEpochMs('min(min_time)')} AS lo, ${engine.dialect.sqlEpochMs('max(max_time)')} AS hi
         FROM ingests WHERE source_file IN {labels:Array(String)} AND stored > 0 AND started_at >= toDateTime({since:UInt32})`,
        { labels: files.map((f) => path.resolve(f)), since },
      );
      if (span && Number(span.hi) > 0) this.observe(Number(span.lo), Number(span.hi));
    }
    return counts;
  }

  /** Moves the watermark and schedules detection for whatever windows that completes or touches. */
  private observe(loMs: number, hiMs: number): void {
    if (this.watermarkMs === null || hiMs > this.watermarkMs) this.watermarkMs = hiMs;
    // Late events: the runner re-judges their windows itself (it tracks what was ingested since).
    if (this.detectedUntilMs !== null && loMs < this.detectedUntilMs) this.late = true;
    this.kickDetection();
  }

  private windowFloor(ms: number): number {
    const w = this.timing.windowSeconds * 1000;
    return Math.floor(ms / w) * w;
  }

  /** The end of the newest window the runner will judge: complete, and settled for stragglers. */
  private judgeable(): number | null {
    if (this.watermarkMs === null) return null;
    return this.windowFloor(this.watermarkMs - this.timing.settleSeconds * 1000);
  }

  /**
   * Asks for a detection pass. One runs at a time; a request during a run is remembered and served
   * by another pass right after it (also when it lands between the loop's last check and its end).
   */
  private kickDetection(): void {
    if (this.closed) return;
    this.again = true;
    if (this.detecting) return;
    this.detecting = (async () => {
      while (this.again && !this.closed) {
        this.again = false;
        await this.detectOnce();
      }
    })().finally(() => {
      this.detecting = null;
      if (this.again) this.kickDetection();
    });
  }

  private async detectOnce(): Promise<void> {
    const target = this.judgeable();
    if (target === null) return;
    if (this.detectedUntilMs !== null && target <= this.detectedUntilMs && !this.late) return;
    this.late = false;
    const t0 = Date.now();
    try {
      const run = await this.domain.advance(this.ws, {
        ...(this.opts.windowSeconds !== undefined ? { windowSeconds: this.opts.windowSeconds } : {}),
      });
      const reached = run.reached ? Date.parse(run.reached) : target;
      this.detectedUntilMs = Math.max(this.detectedUntilMs ?? 0, reached);
      this.stats.detection_runs++;
      this.stats.detection_error = null;
      if (run.windows > 0 || run.incidents_new > 0 || run.incidents_updated > 0) this.stats.generation++;
      if (this.stats.detection_runs === 1 || run.incidents_new > 0 || run.incidents_updated > 0)
        this.opts.onDetected?.();
      if (run.incidents_new > 0)
        this.opts.log?.(
          `detection: ${run.incidents_new} new incident(s) up to ${new Date(reached).toISOString()}`,
        );
    } catch (err) {
      this.stats.detection_error = err instanceof Error ? err.message.split('\n')[0]! : String(err);
      this.opts.log?.(`detection failed: ${err instanceof Error ? err.name : 'error'}`);
    } finally {
      this.stats.detection_seconds_last = (Date.now() - t0) / 1000;
    }
  }

  /** Resolves when every queued ingest and the detection they started are done (tests, shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      await this.ingestChain;
      if (this.detecting) await this.detecting;
      if (this.pending === 0 && !this.detecting) return;
    }
  }

  snapshot(): LiveStats {
    const now = Date.now();
    while (this.recent.length > 0 && now - this.recent[0]!.at > 60_000) this.recent.shift();
    const lastMinute = this.recent.reduce((n, r) => n + r.stored, 0);
    const span = Math.min(60, Math.max(1, (now - this.startedAt.getTime()) / 1000));
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    const lagWindows =
      this.watermarkMs === null
        ? 0
        : Math.max(
            0,
            Math.round(
              ((this.judgeable() ?? 0) - (this.detectedUntilMs ?? this.judgeable() ?? 0)) /
                (this.timing.windowSeconds * 1000),
            ),
          );
    return {
      started_at: this.startedAt.toISOString(),
      pending: this.pending,
      ingests: this.stats.ingests,
      read: this.stats.read,
      stored: this.stats.stored,
      quarantined: this.stats.quarantined,
      duplicates: this.stats.duplicates,
      rate_per_s: Math.round(lastMinute / span),
      watermark: iso(this.watermarkMs),
      detected_until: iso(this.detectedUntilMs),
      detection_runs: this.stats.detection_runs,
      detection_seconds_last: this.stats.detection_seconds_last,
      detection_error: this.stats.detection_error,
      detection_lag_windows: lagWindows,
      generation: this.stats.generation,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
  }
}
