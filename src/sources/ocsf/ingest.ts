import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { type Engine, recordBatchTokens } from '../../store/index.ts';
import type { EventSource } from '../source.ts';
import { EVENT_COLUMNS, PARSE_SETTINGS } from './parse.ts';

/** The reconciliation every ingest reports: read = stored + quarantined + duplicates. */
export interface IngestCounts {
  read: number;
  stored: number;
  quarantined: number;
  duplicates: number;
  by_reason: Record<string, number>;
}

/** One input on disk; `label` is what events record as their source (the user's path, or `-`). */
export interface InputFile {
  path: string;
  label: string;
  bytes: number;
  /** The number of its first line in the input it is a piece of (see `PIECE_BYTES`); 1 if whole. */
  firstLine?: number;
  /**
   * The size of that whole input, which the ledger records for every piece: a folder watcher
   * knows a file is done when the ledger holds it at its size.
   */
  inputBytes?: number;
}

export interface IngestProgress {
  filesDone: number;
  files: number;
  bytesDone: number;
  bytes: number;
  read: number;
  seconds: number;
}

/**
 * Builds a SELECT that enriches addresses: given a SELECT of `ip`, yields ip, country, asn,
 * as_org, net_class (see `sources/enrich`).
 */
export type Enrichment = (addresses: string) => string;

export interface IngestOptions {
  source: EventSource;
  enrichment: Enrichment;
  /** Lines longer than this many bytes are quarantined (`line_too_long`). */
  maxLineBytes?: number;
  /** Inputs over this many bytes are ingested in pieces of about this size (see `PIECE_BYTES`). */
  pieceBytes?: number;
  onProgress?: (p: IngestProgress) => void;
}

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

export function emptyCounts(): IngestCounts {
  return { read: 0, stored: 0, quarantined: 0, duplicates: 0, by_reason: {} };
}

export function addCounts(into: IngestCounts, more: IngestCounts): IngestCounts {
  into.read += more.read;
  into.stored += more.stored;
  into.quarantined += more.quarantined;
  into.duplicates += more.duplicates;
  for (const [reason, n] of Object.entries(more.by_reason))
    into.by_reason[reason] = (into.by_reason[reason] ?? 0) + n;
  return into;
}

let stageSeq = 0;

/**
 * Writing the batch into `events` costs a quarter of an ingest (sorting by the primary key,
 * skip indexes, compression), and the engine writes with one thread unless told otherwise.
 */
const INSERT_SETTINGS = `max_insert_threads = ${Math.max(1, Math.min(8, os.availableParallelism()))}`;
/**
 * Kept lines are written in parts of at most 262,144 rows (the default gathers ~1 M): over 2 M
 * lines of 650 B the insert's peak RSS went from 5.3 to 4.6–4.9 GB in the same time (1.5–1.9 s);
 * 65,536 rows took 2.7 s.
 */
const LINES_BLOCK = 'min_insert_block_size_rows = 262144';

/** The lines of one file as an `EventSource` input, binding `{file}` and `{label}`. */
export const FILE_LINES = `(SELECT line, _row_number, {label:String} AS input_label
  FROM file({file:String}, 'LineAsString', 'line String'))`;

/**
 * The lines of several files read as one input: `{glob}` matches links named by each file's
 * position in `{labels}` (see `linkBatch`), the file's label is looked up from that position.
 */
const BATCH_LINES = `(SELECT line, _row_number, {labels:Array(String)}[toUInt32(substring(_file, 1, 6)) + 1] AS input_label
  FROM file({glob:String}, 'LineAsString', 'line String'))`;

/** Characters the engine's `file()` takes for a glob in a path. */
const GLOB_CHARS = /[*?{}[\]]/;

/**
 * Ingests files of OCSF JSON lines (plain or compressed: the engine decompresses by extension)
 * as one batch, and writes one ledger row for each.
 *
 * The engine parses the batch once into an in-memory stage; from there valid rows that are not
 * already stored go to `events` (and their lines, of a source that keeps them, to `raw_events`)
 * and the rest to `quarantine`. Duplicates are recognised by event
 * id against the stored events of the same time range (the primary key keeps that lookup to the
 * hours involved), and inside the batch itself, where the first occurrence (in the order of the
 * files, then of their lines) is the one stored, as if the files were ingested one after the
 * other. A quarantined line already in quarantine is a duplicate too, so re-ingesting a file
 * changes nothing.
 */
function ingestBatch(
  engine: Engine,
  files: readonly InputFile[],
  linksDir: string,
  opts: IngestOptions,
): Promise<IngestCounts> {
  // One ingest at a time per engine: counts are taken from the store around the insert.
  const previous = running.get(engine) ?? Promise.resolve();
  const next = previous
    .catch(() => undefined)
    .then(async () => {
      // One file is read by its path, unless the engine would take its name for a glob.
      if (files.length === 1 && !GLOB_CHARS.test(files[0]!.path))
        return ingestOne(engine, files, undefined, opts);
      const { glob, folder } = linkBatch(linksDir, files);
      try {
        return await ingestOne(engine, files, glob, opts);
      } finally {
        fs.rmSync(folder, { recursive: true, force: true });
      }
    });
  running.set(engine, next);
  return next;
}

const running = new WeakMap<Engine, Promise<unknown>>();

interface FileSummary {
  source_file: string;
  read: number;
  valid: number;
  lo: string;
  hi: string;
}

/** Ingests `files` read by their one path, or through links matched by `glob` (see `linkBatch`). */
async function ingestOne(
  engine: Engine,
  files: readonly InputFile[],
  glob: string | undefined,
  opts: IngestOptions,
): Promise<IngestCounts> {
  const started = Date.now();
  const ingestId = randomUUID();
  const stage = `_ingest_stage_${process.pid}_${++stageSeq}`;
  const labels = files.map((f) => f.label);
  const params = {
    ...(glob === undefined ? { file: files[0]!.path, label: labels[0]! } : { glob }),
    labels,
    order: labels.map((_, i) => i),
    maxLine: opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    firstLine: files[0]!.firstLine ?? 1,
    ingest: ingestId,
  };
  const source = glob === undefined ? FILE_LINES : BATCH_LINES;
  // A row's file, by its place in the batch (what "first" means among duplicates).
  const fileOrder = (file: string) => `transform(${file}, {labels:Array(String)}, {order:Array(UInt32)}, 0)`;
  await engine.exec(
    `CREATE TABLE ${stage} ENGINE = Memory AS ${opts.source.parseSelect(engine.dialect, source)}
     SETTINGS ${PARSE_SETTINGS}`,
    params,
  );
  try {
    // One pass over the stage for each file's counts and time range.
    const summaries = await engine.query<FileSummary>(
      `SELECT source_file, count() AS read, countIf(reason = '') AS valid,
         minIf(time, reason = '') AS lo, maxIf(time, reason = '') AS hi
       FROM ${stage} GROUP BY source_file`,
    );
    const byFile = new Map(summaries.map((s) => [s.source_file, s]));
    const valid = summaries.reduce((n, s) => n + s.valid, 0);
    const read = summaries.reduce((n, s) => n + s.read, 0);
    if (valid < read) {
      await engine.exec(
        `INSERT INTO quarantine (ingest_id, source_file, source_line, reason, detail, line_hash, raw, quarantined_at)
         SELECT {ingest:String}, source_file, source_line, reason, detail, line_hash, raw, now()
         FROM ${stage}
         WHERE reason != ''
           AND (reason, line_hash) NOT IN (SELECT reason, line_hash FROM quarantine WHERE line_hash IN
                 (SELECT line_hash FROM ${stage} WHERE reason != ''))
         ORDER BY ${fileOrder('source_file')}, source_line
         LIMIT 1 BY reason, line_hash`,
        params,
      );
    }
    const storedBy = new Map<string, number>();
    let range = { lo: '', hi: '' };
    if (valid > 0) {
      // The batch's time range spans its files' (the times' text sorts as the times do).
      const spans = summaries.filter((f) => f.valid > 0);
      range = {
        lo: spans.map((f) => f.lo).sort()[0]!,
        hi: spans
          .map((f) => f.hi)
          .sort()
          .at(-1)!,
      };
      // Whether any event id repeats in the batch: distinct 64-bit hashes of the ids equal to the
      // number of valid rows proves the ids distinct (equal ids hash alike); only otherwise is the
      // batch deduplicated by id. Ids already stored can only be in the batch's time range; when
      // the store has nothing there (the usual first ingest of a file), the lookup by id is skipped
      // altogether.
      const [ids] = await engine.query<{ distinct: number }>(
        `SELECT uniqExactIf(sipHash64(event_id), reason = '') AS distinct FROM ${stage}`,
      );
      const unique = ids!.distinct === valid;
      const inRange = `time BETWEEN {lo:DateTime64(3, 'UTC')} AND {hi:DateTime64(3, 'UTC')}`;
      const [inStore] = await engine.query<{ n: number }>(
        `SELECT count() AS n FROM (SELECT 1 FROM events WHERE ${inRange} LIMIT 1)`,
        range,
      );
      const occupied = (inStore?.n ?? 0) > 0;
      // The batch's ids already in `table` (`events` or `raw_events`).
      const storedIn = (table: string) => `SELECT event_id FROM ${table}
             WHERE ${inRange} AND event_id IN (SELECT event_id FROM ${stage} WHERE reason = '')`;
      // Where an id repeats in the batch, only its first position is stored (several rows at that
      // position, as from one line of CloudTrail records, are one file's: LIMIT 1 BY keeps one).
      if (!unique) {
        await engine.exec(
          `CREATE TABLE ${stage}_repeats ENGINE = Memory AS
           SELECT event_id, min((${fileOrder('source_file')}, source_line)) AS first
           FROM ${stage} WHERE reason = '' GROUP BY event_id HAVING count() > 1`,
          params,
        );
      }
      const repeats = unique ? '' : `LEFT JOIN ${stage}_repeats AS r ON s.event_id = r.event_id`;
      // After `FROM stage AS s` (and any join of its own): the rows stored, valid, each id at its
      // first position, and, given a table, not already in it.
      const chosen = (notIn?: string) => `${repeats}
           WHERE s.reason = ''${notIn ? ` AND s.event_id NOT IN (${storedIn(notIn)})` : ''}
           ${unique ? '' : `AND (r.event_id = '' OR (${fileOrder('s.source_file')}, s.source_line) = r.first)`}`;
      const onePerId = unique ? '' : 'LIMIT 1 BY s.event_id';
      let old = 0;
      if (occupied || !unique) {
        // Stored = distinct new ids, counted for the file where each is first.
        const rows = await engine.query<{ source_file: string; stored: number; old: number }>(
          `SELECT source_file, uniqExactIf(event_id, NOT is_old) AS stored, countIf(is_old) AS old FROM (
             SELECT s.source_file AS source_file, s.event_id AS event_id,
               ${occupied ? `s.event_id IN (${storedIn('events')})` : '0'} AS is_old
             FROM ${stage} AS s ${chosen()})
           GROUP BY source_file
           SETTINGS join_use_nulls = 0`,
          { ...params, ...range },
        );
        for (const r of rows) {
          storedBy.set(r.source_file, r.stored);
          old += r.old;
        }
      } else {
        for (const s of summaries) storedBy.set(s.source_file, s.valid);
      }
      const columns = [...EVENT_COLUMNS, 'unmapped', 'country', 'asn', 'as_org', 'net_class'].join(', ');
      if ([...storedBy.values()].some((n) => n > 0)) {
        // Enrich each distinct address of the batch once; the gateway's own country/ASN fill in
        // only where the database has nothing.
        await engine.exec(
          `CREATE TABLE ${stage}_addr ENGINE = Memory AS
           ${opts.enrichment(`SELECT DISTINCT src_ip AS ip FROM ${stage} WHERE reason = ''`)}`,
        );
        await engine.exec(
          `INSERT INTO events (${columns})
           SELECT ${EVENT_COLUMNS.map((c) => `s.${c}`).join(', ')},
             if(s.unmapped_pairs = '', '', concat('{', s.unmapped_pairs, '}')),
             if(a.country != '', a.country, s.reported_country), if(a.asn != 0, a.asn, s.reported_asn),
             a.as_org, a.net_class
           FROM ${stage} AS s LEFT JOIN ${stage}_addr AS a ON s.src_ip = a.ip
           ${chosen(old > 0 ? 'events' : undefined)} ${onePerId}
           SETTINGS join_use_nulls = 0, ${INSERT_SETTINGS}`,
          { ...params, ...range },
        );
        // Each stored event's line, read again from the input (the page cache has it: cheaper than
        // carrying a kilobyte a row through the stage, whose memory the first batch of a process
        // pays for in page faults) and joined to the same chosen rows, by line alone when the
        // input is one file (~0.5 µs a row cheaper than hashing its label too). An event whose line
        // is already kept (a run stopped between the two inserts) is not kept twice.
        if (opts.source.remainderSelect)
          await engine.exec(
            `INSERT INTO raw_events (event_id, time, format, source_file, source_line, raw)
             SELECT s.event_id, s.time, {format:String}, s.source_file, s.source_line, l.line
             FROM (SELECT input_label, _row_number + {firstLine:UInt64} AS source_line, line FROM ${source}) AS l
             INNER JOIN (
               SELECT s.event_id AS event_id, s.time AS time, s.source_file AS source_file, s.source_line AS source_line
               FROM ${stage} AS s ${chosen(occupied ? 'raw_events' : undefined)} ${onePerId}) AS s
             ON ${glob === undefined ? '' : 'l.input_label = s.source_file AND '}l.source_line = s.source_line
             SETTINGS join_use_nulls = 0, ${INSERT_SETTINGS}, ${LINES_BLOCK}`,
            { ...params, ...range, format: opts.source.name },
          );
      }
    }
    const reasons = await engine.query<{ source_file: string; reason: string; n: number }>(
      `SELECT source_file, reason, count() AS n FROM quarantine WHERE ingest_id = {ingest:String}
       GROUP BY source_file, reason ORDER BY reason`,
      { ingest: ingestId },
    );
    const total = emptyCounts();
    const seconds = (Date.now() - started) / 1000;
    const ledger = files.map((f) => {
      const s = byFile.get(f.label);
      const counts: IngestCounts = {
        ...emptyCounts(),
        read: s?.read ?? 0,
        stored: storedBy.get(f.label) ?? 0,
      };
      for (const r of reasons.filter((r) => r.source_file === f.label)) {
        counts.by_reason[r.reason] = r.n;
        counts.quarantined += r.n;
      }
      counts.duplicates = counts.read - counts.stored - counts.quarantined;
      addCounts(total, counts);
      // Files ingested together share the batch's id and its time.
      return {
        ingest_id: ingestId,
        source_file: f.label,
        bytes: f.inputBytes ?? f.bytes,
        read: counts.read,
        stored: counts.stored,
        quarantined: counts.quarantined,
        duplicates: counts.duplicates,
        min_time: s && s.valid > 0 ? s.lo : '1970-01-01 00:00:00',
        max_time: s && s.valid > 0 ? s.hi : '1970-01-01 00:00:00',
        started_at: Math.floor(started / 1000),
        seconds,
        first_line: f.firstLine ?? 1,
      };
    });
    await engine.insert('ingests', ledger);
    // The batch's unmatched tokens, for the scope (src/store/ledger.ts), from every valid row (a
    // superset of those stored). After the ingest's own lines: should this fail, the store still
    // reconciles, and a scope finds the ledger short and rebuilds it.
    if (valid > 0)
      await recordBatchTokens(engine, {
        id: ingestId,
        rows: `(SELECT class_uid, token_id FROM ${stage} WHERE reason = '')`,
        events: total.stored,
        lo: range.lo,
        hi: range.hi,
      });
    return total;
  } finally {
    for (const t of ['', '_addr', '_repeats']) await engine.exec(`DROP TABLE IF EXISTS ${stage}${t}`);
  }
}

/**
 * A compressed input that cannot be decompressed (corrupt, truncated, or not gzip at all): what it
 * held past the damage cannot be read, so the error names it and what of it was stored.
 */
export class UnreadableInput extends Error {
  constructor(
    readonly label: string,
    readonly reason: string,
    /** Inputs ingested before this one, and what this one's pieces before the damage gave. */
    readonly before: number,
    readonly partial: IngestCounts,
  ) {
    super(`${label}: cannot be decompressed (${reason})`);
    this.name = 'UnreadableInput';
  }
}

/** Why `err` is a failure to decompress an input (the engine's or Node's zlib), if it is one. */
function decompressionFailure(err: unknown): string | undefined {
  const message = err instanceof Error ? err.message : String(err);
  const engine = /inflate failed: ([^:]+)/.exec(message);
  if (engine) return engine[1]!.trim();
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('Z_') ? message : undefined;
}

/**
 * Inputs larger than this are ingested in pieces of about this size, cut at line ends (a
 * compressed input, by its decompressed bytes, when it is over a quarter of this on disk). The
 * parse holds a whole piece in memory (~2.2x its bytes at the peak: 3.0 GB of RSS for 1.4 GB of
 * lines), so this bounds memory whatever the input's size, and progress is reported after each
 * piece. The price is each piece's fixed work (planning, enrichment, ledger) and copying its
 * lines, done while the engine ingests the piece before: 4 M plain lines (2.7 GB) took 16.4 s at
 * 2.7 GB peak RSS in 3 pieces, 15.2 s at 5.4 GB whole (18.7 s in pieces cut one after the other).
 */
export const PIECE_BYTES = 1024 ** 3;

/**
 * The input itself when it is small enough, else its pieces, each a temporary file under `dir`
 * for the caller to remove; `consumed` is how many of the input's own bytes (compressed
 * or not) the pieces so far account for (the input's size only with the last).
 */
async function* piecesOf(
  input: InputFile,
  pieceBytes: number,
  dir: string,
  recordStart?: RegExp,
): AsyncGenerator<{ piece: InputFile; consumed: number }> {
  if (weight(input, pieceBytes).whole) {
    yield { piece: input, consumed: input.bytes };
    return;
  }
  const gz = /\.gz$/i.test(input.path);
  const raw = fs.createReadStream(input.path, { highWaterMark: 1 << 20 });
  const lines: AsyncIterable<Buffer> = gz ? raw.pipe(zlib.createGunzip()) : raw;
  let n = 0;
  let firstLine = 1;
  let fd: number | undefined;
  let file = '';
  let bytes = 0;
  let newlines = 0;
  let written = 0;
  const open = () => {
    file = path.join(dir, `piece-${process.pid}-${++n}.jsonl`);
    fd = fs.openSync(file, 'w');
  };
  const close = (): InputFile => {
    fs.closeSync(fd!);
    fd = undefined;
    const piece = { path: file, label: input.label, bytes, firstLine, inputBytes: input.bytes };
    firstLine += newlines;
    bytes = 0;
    newlines = 0;
    return piece;
  };
  const write = (buf: Buffer) => {
    if (fd === undefined) open();
    fs.writeSync(fd!, buf);
    bytes += buf.length;
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) newlines++;
  };
  // The first line end at or after `from` where a piece may end: any, or, of a format whose records
  // span lines, one before a record's start (-1 when the line after it begins past this chunk:
  // the next chunk is searched instead).
  const cutIn = (chunk: Buffer, from: number): number => {
    for (let i = chunk.indexOf(10, from); i !== -1; i = chunk.indexOf(10, i + 1)) {
      if (!recordStart) return i;
      const next = chunk.subarray(i + 1, i + 1 + 256);
      if (recordStart.test(next.toString('latin1'))) return i;
      if (i + 1 + next.length === chunk.length && next.indexOf(10) === -1) return -1;
    }
    return -1;
  };
  try {
    for await (const read of lines) {
      // A piece ends at the first line end once it has its size.
      let chunk = read;
      for (;;) {
        const cut =
          bytes + chunk.length >= pieceBytes ? cutIn(chunk, Math.max(0, pieceBytes - bytes - 1)) : -1;
        if (cut === -1) break;
        write(chunk.subarray(0, cut + 1));
        const piece = close();
        // Of a plain input, its bytes so far; of a compressed one, what has been read of it.
        written += piece.bytes;
        yield { piece, consumed: gz ? Math.min(raw.bytesRead, input.bytes - 1) : written };
        chunk = chunk.subarray(cut + 1);
      }
      if (chunk.length > 0) write(chunk);
    }
    if (fd !== undefined) {
      yield { piece: close(), consumed: input.bytes };
    }
  } finally {
    // A piece left unfinished (the caller stopped early) is removed; finished ones are the caller's.
    if (fd !== undefined) {
      fs.closeSync(fd);
      fs.rmSync(file, { force: true });
    }
    raw.destroy();
  }
}

/**
 * At most this many files are read as one batch (see `batchesOf`): the parse's fixed cost (~0.2 s
 * of planning the query, enrichment, the ledger) is then paid once for all of them.
 * 30 files of 37 MB: 14.1 s parsing one at a time, 5.3 s as one (links to them in one folder, read
 * by a glob; a UNION ALL of one read per file took 8.5 s).
 */
const BATCH_FILES = 256;

/** Whether an input is read whole (else in pieces, see `PIECE_BYTES`), and how much memory it takes. */
function weight(input: InputFile, pieceBytes: number): { whole: boolean; bytes: number } {
  const gz = /\.gz$/i.test(input.path);
  return {
    whole: input.bytes <= (gz ? pieceBytes / 4 : pieceBytes * 1.5),
    // A compressed input, by a guess of its decompressed size.
    bytes: gz ? input.bytes * 4 : input.bytes,
  };
}

/**
 * Inputs in order, grouped into batches read as one (see `BATCH_FILES`): consecutive whole inputs
 * of a line-by-line source, up to a piece's bytes together, with no label twice. Each batch comes
 * with the position of its first input.
 */
function batchesOf(
  inputs: readonly InputFile[],
  linewise: boolean,
  pieceBytes: number,
): { files: InputFile[]; first: number }[] {
  const batches: { files: InputFile[]; first: number }[] = [];
  let open: { files: InputFile[]; first: number; bytes: number; labels: Set<string> } | undefined;
  for (const [i, input] of inputs.entries()) {
    const w = weight(input, pieceBytes);
    const fits =
      open !== undefined &&
      linewise &&
      w.whole &&
      open.files.length < BATCH_FILES &&
      open.bytes + w.bytes <= pieceBytes &&
      !open.labels.has(input.label);
    if (fits) {
      open!.files.push(input);
      open!.bytes += w.bytes;
      open!.labels.add(input.label);
      continue;
    }
    if (open) batches.push({ files: open.files, first: open.first });
    open = undefined;
    // A large input is a batch of its own (read in pieces); a whole one may start the next batch.
    if (w.whole) open = { files: [input], first: i, bytes: w.bytes, labels: new Set([input.label]) };
    else batches.push({ files: [input], first: i });
  }
  if (open) batches.push({ files: open.files, first: open.first });
  return batches;
}

let linkSeq = 0;

/**
 * Links to a batch's files in a folder of their own under `dir`, named by position (keeping each
 * file's extension, which tells the engine how it is compressed), and the glob that reads them.
 */
function linkBatch(dir: string, files: readonly InputFile[]): { glob: string; folder: string } {
  const folder = path.join(dir, `batch-${++linkSeq}`);
  fs.mkdirSync(folder);
  for (const [i, f] of files.entries()) {
    const ext = /\.[A-Za-z0-9]+$/.exec(f.path)?.[0] ?? '';
    fs.symlinkSync(path.resolve(f.path), path.join(folder, `${String(i).padStart(6, '0')}${ext}`));
  }
  return { glob: path.join(folder, '*'), folder };
}

/**
 * One input, in pieces when it is large (see `PIECE_BYTES`); `onPiece` gets each piece's counts
 * and how many of the input's bytes are done. A failure to decompress it is an `UnreadableInput`
 * (`index`: its place among the inputs).
 */
async function ingestPieces(
  engine: Engine,
  input: InputFile,
  index: number,
  dir: string,
  opts: IngestOptions,
  onPiece: (counts: IngestCounts, consumed: number) => void,
): Promise<void> {
  const pieces = piecesOf(input, opts.pieceBytes ?? PIECE_BYTES, dir, opts.source.recordStart);
  const partial = emptyCounts();
  // The next piece is cut from the input while the engine ingests this one; a failure to cut it is
  // taken when it is awaited, not reported as unhandled meanwhile.
  const cutNext = () => {
    const p = pieces.next();
    p.catch(() => undefined);
    return p;
  };
  let next = cutNext();
  try {
    for (let r = await next; !r.done; r = await next) {
      next = cutNext();
      const { piece, consumed } = r.value;
      try {
        const counts = await ingestBatch(engine, [piece], dir, opts);
        addCounts(partial, counts);
        onPiece(counts, consumed);
      } finally {
        if (piece.path !== input.path) fs.rmSync(piece.path, { force: true });
      }
    }
  } catch (err) {
    const reason = decompressionFailure(err);
    throw reason === undefined ? err : new UnreadableInput(input.label, reason, index, partial);
  } finally {
    // On a failed ingest, the piece being cut is finished and dropped before its folder goes.
    await next.catch(() => undefined);
    await pieces.return(undefined);
  }
}

/**
 * Ingests inputs in order, reporting progress before the first and after each batch or piece;
 * counts are summed across them. Small inputs of a line-by-line source are read in batches (see
 * `batchesOf`), a large one in pieces (see `PIECE_BYTES`).
 */
export async function ingestFiles(
  engine: Engine,
  inputs: readonly InputFile[],
  opts: IngestOptions,
): Promise<IngestCounts> {
  const total = emptyCounts();
  const bytes = inputs.reduce((n, f) => n + f.bytes, 0);
  const started = Date.now();
  const pieceBytes = opts.pieceBytes ?? PIECE_BYTES;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-pieces-'));
  // Links are read through a glob, so the folder's own path must hold no glob characters.
  const linewise = opts.source.linewise && !GLOB_CHARS.test(dir);
  let bytesDone = 0;
  const progress = (filesDone: number, consumed: number) =>
    opts.onProgress?.({
      filesDone,
      files: inputs.length,
      bytesDone: bytesDone + consumed,
      bytes,
      read: total.read,
      seconds: (Date.now() - started) / 1000,
    });
  try {
    // A first report, before any work: what there is to do.
    progress(0, 0);
    for (const batch of batchesOf(inputs, linewise, pieceBytes)) {
      if (batch.files.length > 1) {
        try {
          addCounts(total, await ingestBatch(engine, batch.files, dir, opts));
          bytesDone += batch.files.reduce((b, f) => b + f.bytes, 0);
          progress(batch.first + batch.files.length, 0);
          continue;
        } catch (err) {
          // A damaged compressed file fails its whole batch before anything is stored: its files
          // are then read one by one, which names it and stores those before it.
          if (decompressionFailure(err) === undefined) throw err;
        }
      }
      for (const [k, input] of batch.files.entries()) {
        const i = batch.first + k;
        await ingestPieces(engine, input, i, dir, opts, (counts, consumed) => {
          addCounts(total, counts);
          progress(consumed >= input.bytes ? i + 1 : i, Math.min(consumed, input.bytes));
        });
        bytesDone += input.bytes;
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return total;
}
