import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Operation } from './catalog.ts';
import type { LineWriter } from './ocsf.ts';
import type { ScenarioTruth } from './truth.ts';

/**
 * Sorted runs of encoded lines for one day, kept in memory while small and spilled to one
 * temporary file past a byte budget, then merged in order. This is what bounds the simulator's
 * memory: the stream sorts and encodes a batch of events at a time (JSON lines, or typed rows for
 * a workspace) instead of holding the day.
 *
 * A record is
 *   u32 record length | f64 sort key | u32 line length | line | u8 flag (0: no truth, 0xff: left
 *   out, else truth index + 1) [ | f64 time | f64 sequence number | u16 operation (0xffff: none) |
 *   u32 subjects | (u8 id length | id)… ]
 * The truth part carries what `ScenarioTruth.record` needs, so truth is recorded in written order.
 * A record left out (a duplicate delivery, which typed rows do not store) still takes its
 * position: positions are the day's line numbers.
 */

const HEADER = 16;
const NO_OP = 0xffff;
const LEFT_OUT = 0xff;
/** Flag, time, sequence number, operation, subject count. */
const TRUTH_BYTES = 1 + 8 + 8 + 2 + 4;
/** Scenario truths a day can name in the flag byte (1 … 254). */
const MAX_TRUTHS = LEFT_OUT - 1;
/**
 * Bytes read from the spill file per run at a time: up to 256 KB, less when a day has so many
 * runs on disk that their windows would outgrow the memory budget (a 33 M-event day has ~1,000).
 */
const READ_BYTES_MAX = 1 << 18;
const READ_BYTES_MIN = 1 << 15;

interface Run {
  /** In memory, or null once in the spill file at [offset, offset + length). */
  buf: Buffer | null;
  offset: number;
  length: number;
}

export class DayRuns {
  private runs: Run[] = [];
  private inMemory = 0;
  private dir: string | null = null;
  private fd: number | null = null;
  private fileEnd = 0;
  /** Run buffers and read windows of earlier days, for reuse. */
  private readonly free: Buffer[] = [];
  private readonly windows: Buffer[] = [];
  private slab = 0;
  private readonly truths: ScenarioTruth[] = [];
  private readonly truthIndex = new Map<ScenarioTruth, number>();
  private readonly ops: Operation[] = [];
  private readonly opIndex = new Map<Operation, number>();
  /** Runs made and runs written to a spill file, over all days (for tests and benches). */
  made = 0;
  spilled = 0;

  constructor(
    private readonly memoryBytes: number,
    private readonly spillDir: string | undefined,
  ) {}

  get count(): number {
    return this.runs.length;
  }

  /** Starts a record; the caller then writes the line and calls `endLine`, then the truth part. */
  begin(w: LineWriter, key: number): number {
    w.room(HEADER);
    const at = w.pos;
    w.buf.writeDoubleLE(key, at + 4);
    w.pos += HEADER;
    return at;
  }

  endLine(w: LineWriter, at: number): void {
    w.buf.writeUInt32LE(w.pos - at - HEADER, at + 12);
  }

  noTruth(w: LineWriter, at: number): void {
    w.byte(0);
    w.buf.writeUInt32LE(w.pos - at, at);
  }

  /** Ends a record that keeps its position in the day but is not emitted (`merge`). */
  leftOut(w: LineWriter, at: number): void {
    w.byte(LEFT_OUT);
    w.buf.writeUInt32LE(w.pos - at, at);
  }

  truth(
    w: LineWriter,
    at: number,
    truth: ScenarioTruth,
    time: number,
    seq: number,
    op: Operation | null,
    subjects: readonly { readonly id: string }[],
  ): void {
    let t = this.truthIndex.get(truth);
    if (t === undefined) {
      if (this.truths.length === MAX_TRUTHS) throw new Error(`more than ${MAX_TRUTHS} scenarios in one run`);
      t = this.truths.push(truth) - 1;
      this.truthIndex.set(truth, t);
    }
    let o = NO_OP;
    if (op) {
      let i = this.opIndex.get(op);
      if (i === undefined) {
        i = this.ops.push(op) - 1;
        this.opIndex.set(op, i);
      }
      o = i;
    }
    w.room(TRUTH_BYTES);
    const b = w.buf;
    let p = w.pos;
    b[p] = t + 1;
    b.writeDoubleLE(time, p + 1);
    b.writeDoubleLE(seq, p + 9);
    b.writeUInt16LE(o, p + 17);
    b.writeUInt32LE(subjects.length, p + 19);
    w.pos = p + TRUTH_BYTES;
    for (const s of subjects) {
      w.room(1);
      p = w.pos;
      w.pos = p + 1;
      w.text(s.id);
      if (w.pos - p - 1 > 255) throw new Error(`subject id too long: ${s.id}`);
      w.buf[p] = w.pos - p - 1;
    }
    w.buf.writeUInt32LE(w.pos - at, at);
  }

  /**
   * Takes the run encoded in `w`: copied into memory while the day's runs in memory stay within
   * the budget, else written straight to the spill file. Buffers and the file are reused from
   * day to day (fresh memory and fresh file pages cost more than the copy itself).
   */
  add(w: LineWriter): void {
    const length = w.pos;
    this.made++;
    if (this.inMemory + length <= this.memoryBytes) {
      const buf = this.buffer(length);
      w.buf.copy(buf, 0, 0, length);
      this.runs.push({ buf, offset: 0, length });
      this.inMemory += buf.length;
      return;
    }
    if (this.fd === null) {
      this.dir = mkdtempSync(path.join(this.spillDir ?? tmpdir(), '.vigil-sim-'));
      this.fd = openSync(path.join(this.dir, 'runs'), 'w+');
    }
    let done = 0;
    while (done < length) done += writeSync(this.fd, w.buf, done, length - done, this.fileEnd + done);
    this.runs.push({ buf: null, offset: this.fileEnd, length });
    this.fileEnd += length;
    this.spilled++;
  }

  /**
   * A buffer for a run of `length` bytes. Run buffers share one size (the largest run so far plus
   * an eighth), so a day's buffers fit the next day's runs and the pool never outgrows the budget.
   */
  private buffer(length: number): Buffer {
    if (length > this.slab) {
      this.slab = Math.ceil((length * 1.125) / (1 << 20)) * (1 << 20);
      this.free.length = 0;
    }
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.slab);
  }

  private release(buf: Buffer): void {
    if (buf.length === this.slab) this.free.push(buf);
  }

  /** A read window of `size` bytes for a run on disk. */
  private window(size: number): Buffer {
    if (this.windows.length > 0 && this.windows[0].length !== size) this.windows.length = 0;
    return this.windows.pop() ?? Buffer.allocUnsafeSlow(size);
  }

  /**
   * Merges the runs in (key, run, position) order: each run is sorted by (key, position) and
   * runs follow generation order, so this is the order of one stable sort of the whole day.
   * `emit` copies the line at [start, end) of `buf`, the day's line number `line`; truth is
   * recorded here, and `attack` told each scenario event's sequence number before its emit.
   * Returns the positions merged (records left out included) and how many were left out.
   */
  async merge(
    emit: (buf: Buffer, start: number, end: number, line: number) => void | Promise<void>,
    attack?: (seq: number, truth: ScenarioTruth) => void,
  ): Promise<{ positions: number; leftOut: number }> {
    const onDisk = this.runs.length - this.runs.filter((r) => r.buf).length;
    let size = READ_BYTES_MAX;
    while (size > READ_BYTES_MIN && size * onDisk > this.memoryBytes) size >>= 1;
    const sources = this.runs.map((r, i) => new Source(r, i, this.fd, r.buf ? null : this.window(size)));
    const heap: Source[] = [];
    for (const s of sources) if (s.next()) heap.push(s);
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(heap, i);
    const subjects: { id: string }[] = [];
    let n = 0;
    let leftOut = 0;
    while (heap.length > 0) {
      const s = heap[0];
      const b = s.buf;
      const at = s.at;
      const lineEnd = at + HEADER + b.readUInt32LE(at + 12);
      const flag = b[lineEnd];
      n++;
      if (flag === LEFT_OUT) leftOut++;
      else {
        if (flag !== 0) {
          const truth = this.truths[flag - 1];
          const time = b.readDoubleLE(lineEnd + 1);
          const o = b.readUInt16LE(lineEnd + 17);
          const count = b.readUInt32LE(lineEnd + 19);
          subjects.length = 0;
          let p = lineEnd + TRUTH_BYTES;
          for (let k = 0; k < count; k++) {
            const len = b[p];
            subjects.push({ id: b.toString('utf8', p + 1, p + 1 + len) });
            p += 1 + len;
          }
          truth.record(time, o === NO_OP ? null : this.ops[o], subjects);
          attack?.(b.readDoubleLE(lineEnd + 9), truth);
        }
        const pending = emit(b, at + HEADER, lineEnd, n);
        if (pending) await pending;
      }
      if (s.next()) siftDown(heap, 0);
      else {
        const last = heap.pop()!;
        if (heap.length > 0) {
          heap[0] = last;
          siftDown(heap, 0);
        }
      }
    }
    for (const src of sources) if (src.window?.length === size) this.windows.push(src.window);
    return { positions: n, leftOut };
  }

  /** Forgets the day's runs; their buffers and the spill file are reused by the next day. */
  clear(): void {
    for (const r of this.runs) if (r.buf) this.release(r.buf);
    this.runs = [];
    this.inMemory = 0;
    this.fileEnd = 0;
  }

  /** Removes the spill file (end of the simulation, or an error). */
  dispose(): void {
    this.clear();
    this.free.length = 0;
    this.windows.length = 0;
    if (this.fd !== null) closeSync(this.fd);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.fd = null;
    this.dir = null;
  }
}

/** One run being read: the current record starts at `at` in `buf`, its key is `key`. */
class Source {
  buf: Buffer;
  at = 0;
  key = 0;
  /** End of the valid bytes in `buf`. */
  private end: number;
  /** Next byte of the run to read from the file. */
  private filePos: number;
  private readonly fileEnd: number;
  private started = false;

  constructor(
    run: Run,
    readonly index: number,
    private readonly fd: number | null,
    /** The read window of a run on disk (given back to the pool after the merge). */
    public window: Buffer | null,
  ) {
    if (run.buf) {
      this.buf = run.buf;
      this.end = run.length;
      this.filePos = this.fileEnd = 0;
    } else {
      this.buf = window!;
      this.end = 0;
      this.filePos = run.offset;
      this.fileEnd = run.offset + run.length;
    }
  }

  /** Moves to the next record; false at the end of the run. */
  next(): boolean {
    let at = this.at;
    if (this.started) at += this.buf.readUInt32LE(at);
    this.started = true;
    if (this.end - at < 4 || this.end - at < this.buf.readUInt32LE(at)) {
      if (this.filePos >= this.fileEnd) {
        this.at = at;
        return false;
      }
      at = this.refill(at);
      if (at < 0) return false;
    }
    this.at = at;
    this.key = this.buf.readDoubleLE(at + 4);
    return true;
  }

  /** Keeps [at, end) and reads more; returns where the record now starts (-1: none left). */
  private refill(at: number): number {
    const rest = this.end - at;
    const need = rest >= 4 ? this.buf.readUInt32LE(at) : HEADER;
    let buf = this.buf;
    if (need > buf.length) {
      buf = Buffer.allocUnsafe(Math.max(need, buf.length * 2));
      this.window = buf;
    }
    this.buf.copy(buf, 0, at, this.end);
    this.buf = buf;
    this.end = rest;
    while (this.filePos < this.fileEnd && this.end < buf.length) {
      const n = readSync(
        this.fd!,
        buf,
        this.end,
        Math.min(buf.length - this.end, this.fileEnd - this.filePos),
        this.filePos,
      );
      if (n === 0) throw new Error('simulator spill file ended early');
      this.end += n;
      this.filePos += n;
    }
    if (this.end < 4) return -1;
    if (this.end < this.buf.readUInt32LE(0)) {
      if (this.filePos >= this.fileEnd) throw new Error('simulator spill file ended inside a record');
      return this.refill(0);
    }
    return 0;
  }
}

function less(a: Source, b: Source): boolean {
  return a.key < b.key || (a.key === b.key && a.index < b.index);
}

function siftDown(heap: Source[], i: number): void {
  const n = heap.length;
  const item = heap[i];
  for (;;) {
    let c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && less(heap[c + 1], heap[c])) c++;
    if (!less(heap[c], item)) break;
    heap[i] = heap[c];
    i = c;
  }
  heap[i] = item;
}
