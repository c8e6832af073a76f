import { DAY, HOUR, utcDate } from './clock.ts';
import { type ApiCall, type AuthCall, eventId, LineWriter, writeApiLine, writeAuthLine } from './ocsf.ts';
import { timeOrder } from './order.ts';
import { Rng } from './rng.ts';
import { DayRuns } from './runs.ts';
import type { EventSink } from './sink.ts';
import { endRow, writeApiRow, writeAuthRow } from './sinks/rows.ts';
import type { ScenarioTruth } from './truth.ts';
import type { Subject } from './world.ts';

/**
 * An event waiting for its day to be written. The JSON text is built only at flush time: a
 * line built early is a tree of string pieces that lives for a whole day and makes the garbage
 * collector the bottleneck.
 */
interface Pending {
  t: number;
  time: number;
  seq: number;
  api: ApiCall | null;
  auth: AuthCall | null;
  withOperation: boolean;
  truth: ScenarioTruth | undefined;
  /** A second delivery of an event already pushed (same id, a little later). */
  duplicate: boolean;
}

/** A stretch of time during which one of the API gateway's nodes had a wrong clock. */
interface Skew {
  from: number;
  to: number;
  offset: number;
}

const NO_SUBJECTS: readonly Subject[] = [];
/** Share of events logged with only a URL path (no api.operation), as some gateways do. */
const URL_ONLY = 0.03;
const DUPLICATE = 0.001;
/** One gateway node in this many is the one with the bad clock. */
const SKEWED_NODE_SHARE = 1 / 8;
/** Bytes handed to the sink at a time: few large writes. */
const CHUNK_BYTES = 4 << 20;

/**
 * How much of a day the stream holds at once. Events are sorted and encoded `batchEvents` at a
 * time into runs; runs beyond `memoryBytes` go to a temporary file (in `spillDir`, else the
 * sink's, else the system's); the day is then merged from its runs.
 */
export interface StreamLimits {
  batchEvents: number;
  memoryBytes: number;
  spillDir?: string;
}

export const DEFAULT_LIMITS: StreamLimits = { batchEvents: 1 << 15, memoryBytes: 64 << 20 };

/**
 * A batch also ends once its events name this many subjects per `batchEvents` event: a weekly
 * export of millions of customers arrives as thousands of 500-subject events in a row, which
 * would otherwise be held, and encoded, as one run of hundreds of megabytes.
 */
const SUBJECTS_PER_BATCH_EVENT = 8;

/**
 * Collects generated events, orders them by time and hands whole days to the sink. Generators
 * may emit events past the current day (a session that runs over midnight); those wait for the
 * next flush. Also adds the transport's mess: URL-only events, duplicate deliveries, clock skew.
 */
export class EventStream {
  private pending: Pending[] = [];
  private seq = 0;
  private readonly mess: Rng;
  private readonly skews: Skew[] = [];
  private readonly writer = new LineWriter(CHUNK_BYTES + (1 << 20));
  written = 0;
  bytes = 0;
  /** End of the day being generated (see `beginDay`); NaN: unknown, nothing is batched. */
  private until = Number.NaN;
  /** Pending events already known to belong to a later day (at the front of `pending`). */
  private kept = 0;
  /** Subjects named by the pending events. */
  private pendingSubjects = 0;
  private readonly limits: StreamLimits;
  /** The day's sorted runs. */
  private readonly runs: DayRuns;
  private readonly runWriter = new LineWriter(1 << 22);
  /** Typed rows (`sinks/rows.ts`) instead of JSON lines. */
  private readonly rows: boolean;

  constructor(
    seed: number,
    startMs: number,
    days: number,
    private readonly sink: EventSink,
    limits: Partial<StreamLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.runs = new DayRuns(this.limits.memoryBytes, this.limits.spillDir ?? sink.spillDir);
    this.rows = sink.encoding === 'rows';
    this.mess = Rng.derive(seed, 'mess');
    const windows = Math.max(1, Math.round(days / 10));
    for (let i = 0; i < windows; i++) {
      const from = startMs + this.mess.int(0, Math.max(0, days - 1)) * DAY + this.mess.int(0, 20) * HOUR;
      const sign = this.mess.chance(0.5) ? 1 : -1;
      this.skews.push({
        from,
        to: from + this.mess.int(2, 6) * HOUR,
        offset: sign * this.mess.int(30_000, 90_000),
      });
    }
  }

  private skewAt(t: number): number {
    for (const s of this.skews) {
      if (t >= s.from && t < s.to && this.mess.next() < SKEWED_NODE_SHARE) return s.offset;
    }
    return 0;
  }

  api(call: ApiCall, truth?: ScenarioTruth): void {
    const time = call.t + this.skewAt(call.t);
    const withOperation = this.mess.next() >= URL_ONLY;
    this.push({
      t: call.t,
      time,
      seq: ++this.seq,
      api: call,
      auth: null,
      withOperation,
      truth,
      duplicate: false,
    });
  }

  auth(call: AuthCall, truth?: ScenarioTruth): void {
    this.push({
      t: call.t,
      time: call.t,
      seq: ++this.seq,
      api: null,
      auth: call,
      withOperation: false,
      truth,
      duplicate: false,
    });
  }

  /**
   * Declares that events of the day ending at `endMs` are being generated (its flush comes next):
   * the stream may then sort and encode them a batch at a time.
   */
  beginDay(endMs: number): void {
    this.until = endMs;
  }

  private push(p: Pending): void {
    const subjects = p.api ? p.api.subjects.length : 0;
    this.pending.push(p);
    this.pendingSubjects += subjects;
    if (this.mess.next() < DUPLICATE) {
      this.pending.push({ ...p, t: p.t + this.mess.int(0, 3000), truth: undefined, duplicate: true });
      this.pendingSubjects += subjects;
    }
    const { batchEvents } = this.limits;
    if (
      (this.pending.length - this.kept >= batchEvents ||
        this.pendingSubjects >= batchEvents * SUBJECTS_PER_BATCH_EVENT) &&
      !Number.isNaN(this.until)
    )
      this.batch();
  }

  /** Sorts and encodes what is pending for the current day as one run. */
  private batch(): void {
    const ready = this.takeBefore(this.until);
    if (ready.length > 0) this.encodeRun(ready, this.until);
  }

  /**
   * One run: `ready` in the order `sortByTime` gives it, each line with its sort key (true time
   * as the day's sort sees it) and what truth needs. Runs follow generation order, so merging
   * them by (key, run, position) gives exactly the one stable sort of the whole day.
   */
  private encodeRun(ready: Pending[], until: number): void {
    const runs = this.runs;
    const w = this.runWriter;
    const rows = this.rows;
    const base = until - 2 * DAY;
    const sorted = sortByTime(ready, until);
    w.pos = 0;
    for (const p of sorted) {
      const at = runs.begin(w, Math.max(0, p.t - base));
      // Typed rows leave duplicate deliveries out, as ingesting the lines would: the first
      // delivery always comes first (it is earlier, and the order is that of a stable sort).
      if (rows && p.duplicate) {
        runs.endLine(w, at);
        runs.leftOut(w, at);
        continue;
      }
      if (p.api) {
        if (rows) writeApiRow(w, p.api, p.time, p.seq, p.withOperation);
        else writeApiLine(w, p.api, p.time, p.seq, p.withOperation);
      } else if (p.auth) {
        if (rows) writeAuthRow(w, p.auth, p.time, p.seq);
        else writeAuthLine(w, p.auth, p.time, p.seq);
      }
      runs.endLine(w, at);
      if (!p.truth) runs.noTruth(w, at);
      else if (p.api)
        runs.truth(w, at, p.truth, p.time, p.seq, p.api.op, p.api.failed ? NO_SUBJECTS : p.api.subjects);
      else runs.truth(w, at, p.truth, p.time, p.seq, null, NO_SUBJECTS);
    }
    runs.add(w);
    w.pos = 0;
  }

  /**
   * Writes every event before `until` (true time) to the sink, in time order, in chunks of about
   * CHUNK_BYTES: the day's runs (the last one made of what is still pending) merged into one
   * reused buffer.
   */
  async flush(until: number): Promise<void> {
    if (this.runs.count > 0 && until !== this.until) throw new Error('EventStream.flush: not the day begun');
    this.until = Number.NaN;
    const runs = this.runs;
    const ready = this.takeBefore(until);
    if (ready.length > 0) this.encodeRun(ready, until);
    if (runs.count === 0) return;
    const day = utcDate(until - 1);
    const w = this.writer;
    const rows = this.rows;
    const attack = this.sink.attack?.bind(this.sink);
    w.pos = 0;
    const { positions, leftOut } = await runs.merge(
      (buf, start, end, line) => {
        const len = end - start;
        w.room(len);
        buf.copy(w.buf, w.pos, start, end);
        w.pos += len;
        if (rows) endRow(w, line);
        if (w.pos >= CHUNK_BYTES) return this.write(day);
      },
      attack && ((seq, truth) => attack(eventId(seq), truth.id)),
    );
    runs.clear();
    if (w.pos > 0) await this.write(day);
    if (leftOut > 0) this.sink.duplicates?.(day, leftOut);
    this.written += positions;
  }

  private async write(day: string): Promise<void> {
    const w = this.writer;
    this.bytes += w.pos;
    await this.sink.write(day, w.buf.subarray(0, w.pos));
    w.pos = 0;
  }

  private takeBefore(until: number): Pending[] {
    const ready: Pending[] = [];
    const keep: Pending[] = [];
    let subjects = 0;
    for (const p of this.pending) {
      if (p.t < until) ready.push(p);
      else {
        keep.push(p);
        if (p.api) subjects += p.api.subjects.length;
      }
    }
    this.pending = keep;
    this.kept = keep.length;
    this.pendingSubjects = subjects;
    return ready;
  }

  /** Sorted runs made and spilled to disk so far. */
  get runStats(): { runs: number; spilled: number } {
    return { runs: this.runs.made, spilled: this.runs.spilled };
  }

  /** Removes the temporary files of the sorted runs (at the end, or after an error). */
  dispose(): void {
    this.runs.dispose();
  }

  /** Events generated past the end of the period are dropped: the period is closed. */
  discard(): number {
    const n = this.pending.length;
    this.pending = [];
    this.kept = 0;
    this.pendingSubjects = 0;
    return n;
  }
}

/**
 * Stable sort by true time, times before the last two days counted as the start of them: the
 * order of the runs' merge keys (`encodeRun`).
 */
function sortByTime(events: Pending[], until: number): Pending[] {
  const base = until - 2 * DAY;
  const order = timeOrder(Float64Array.from(events, (p) => Math.max(0, p.t - base)));
  return Array.from(order, (k) => events[k]);
}
