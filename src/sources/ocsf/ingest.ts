import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { type Engine, recordBatchTokens } from '../../store/index.ts';
import type { EventSource } from '../source.ts';
import { EVENT_COLUMNS, PARSE_SETTINGS, UNMAPPED_LATER } from './parse.ts';

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
 * Ingests one file of OCSF JSON lines (plain or .gz: the engine decompresses by extension).
 *
 * The engine parses the file once into an in-memory stage; from there valid rows that are not
 * already stored go to `events` and the rest to `quarantine`. Duplicates are recognised by event
 * id against the stored events of the same time range (the primary key keeps that lookup to the
 * hours involved), and inside the file itself. A quarantined line already in quarantine is a
 * duplicate too, so re-ingesting a file changes nothing.
 */
export function ingestFile(engine: Engine, input: InputFile, opts: IngestOptions): Promise<IngestCounts> {
  // One ingest at a time per engine: counts are taken from the store around the insert.
  const previous = running.get(engine) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => ingestOne(engine, input, opts));
  running.set(engine, next);
  return next;
}

const running = new WeakMap<Engine, Promise<unknown>>();

async function ingestOne(engine: Engine, input: InputFile, opts: IngestOptions): Promise<IngestCounts> {
  const started = Date.now();
  const ingestId = randomUUID();
  const stage = `_ingest_stage_${process.pid}_${++stageSeq}`;
  const params = {
    file: input.path,
    label: input.label,
    maxLine: opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    firstLine: input.firstLine ?? 1,
    ingest: ingestId,
  };
  const source = `file({file:String}, 'LineAsString', 'line String')`;
  // A source with cheaper parses for some inputs gets the one its first lines call for: without
  // the remainder when none needs it (OCSF without unknown keys, see `parseDeferred`), with it
  // untested when nearly all do (see `parseEvery`).
  const plans = opts.source.byProbe;
  const probe = plans
    ? (await engine.query<{ n: number; probed: number }>(plans.probeSelect(source), params))[0]
    : undefined;
  const parse = !plans
    ? opts.source.parseSelect
    : (probe?.n ?? 0) === 0
      ? plans.parseDeferred
      : probe!.n >= plans.everyLineShare * probe!.probed
        ? plans.parseEvery
        : opts.source.parseSelect;
  await engine.exec(
    `CREATE TABLE ${stage} ENGINE = Memory AS ${parse(engine.dialect, source)}
     SETTINGS ${PARSE_SETTINGS}`,
    params,
  );
  try {
    // One pass over the stage for the counts, the time range and whether any event id repeats
    // inside the batch: distinct 64-bit hashes of the ids equal to the number of valid rows proves
    // the ids distinct (equal ids hash alike); only otherwise is the batch deduplicated by id.
    const [summary] = await engine.query<{
      read: number;
      valid: number;
      distinct: number;
      lo: string;
      hi: string;
      later: number;
    }>(
      `SELECT count() AS read, countIf(reason = '') AS valid, uniqExactIf(sipHash64(event_id), reason = '') AS distinct,
         minIf(time, reason = '') AS lo, maxIf(time, reason = '') AS hi, countIf(unmapped_pairs = '${UNMAPPED_LATER}') AS later
       FROM ${stage}`,
    );
    // Lines the cheap parse left for later: the full parse over them only, joined back by position.
    const later = (summary?.later ?? 0) > 0;
    if (later) {
      const lines = `(SELECT _row_number, line FROM ${source}
        WHERE _row_number + {firstLine:UInt64} IN (SELECT source_line FROM ${stage} WHERE unmapped_pairs = '${UNMAPPED_LATER}'))`;
      await engine.exec(
        `CREATE TABLE ${stage}_unmapped ENGINE = Memory AS
         SELECT source_line, unmapped_pairs FROM (${opts.source.parseSelect(engine.dialect, lines)})
         SETTINGS ${PARSE_SETTINGS}`,
        params,
      );
    }
    const read = summary?.read ?? 0;
    const valid = summary?.valid ?? 0;
    if (valid < read) {
      await engine.exec(
        `INSERT INTO quarantine (ingest_id, source_file, source_line, reason, detail, line_hash, raw, quarantined_at)
         SELECT {ingest:String}, source_file, source_line, reason, detail, line_hash, raw, now()
         FROM ${stage}
         WHERE reason != ''
           AND (reason, line_hash) NOT IN (SELECT reason, line_hash FROM quarantine WHERE line_hash IN
                 (SELECT line_hash FROM ${stage} WHERE reason != ''))
         LIMIT 1 BY reason, line_hash`,
        params,
      );
    }
    let stored = 0;
    if (valid > 0) {
      // Stored = distinct new ids minus those already in the store (ingests into one engine are
      // serialised, so nothing lands in between). Ids already stored can only be in the batch's
      // time range; when the store has nothing there (the usual first ingest of a file), the
      // lookup by id is skipped altogether.
      const range = { lo: summary!.lo, hi: summary!.hi };
      const inRange = `time BETWEEN {lo:DateTime64(3, 'UTC')} AND {hi:DateTime64(3, 'UTC')}`;
      const [occupied] = await engine.query<{ n: number }>(
        `SELECT count() AS n FROM (SELECT 1 FROM events WHERE ${inRange} LIMIT 1)`,
        range,
      );
      const alreadyStored = `SELECT event_id FROM events
             WHERE ${inRange} AND event_id IN (SELECT event_id FROM ${stage} WHERE reason = '')`;
      const unique = summary!.distinct === valid;
      let old = 0;
      let distinct = valid;
      if ((occupied?.n ?? 0) > 0 || !unique) {
        const [row] = await engine.query<{ distinct: number; old: number }>(
          `SELECT (SELECT uniqExact(event_id) FROM ${stage} WHERE reason = '') AS distinct,
             ${(occupied?.n ?? 0) > 0 ? `(SELECT count() FROM (${alreadyStored}))` : '0'} AS old`,
          range,
        );
        distinct = row?.distinct ?? 0;
        old = row?.old ?? 0;
      }
      stored = distinct - old;
      const columns = [...EVENT_COLUMNS, 'unmapped', 'country', 'asn', 'as_org', 'net_class'].join(', ');
      const pairs = later
        ? `if(s.unmapped_pairs = '${UNMAPPED_LATER}', u.unmapped_pairs, s.unmapped_pairs)`
        : 's.unmapped_pairs';
      if (stored > 0) {
        // Enrich each distinct address of the batch once; the gateway's own country/ASN fill in
        // only where the database has nothing.
        await engine.exec(
          `CREATE TABLE ${stage}_addr ENGINE = Memory AS
           ${opts.enrichment(`SELECT DISTINCT src_ip AS ip FROM ${stage} WHERE reason = ''`)}`,
        );
        await engine.exec(
          `INSERT INTO events (${columns})
           SELECT ${EVENT_COLUMNS.map((c) => `s.${c}`).join(', ')},
             if(${pairs} = '', '', concat('{', ${pairs}, '}')),
             if(a.country != '', a.country, s.reported_country), if(a.asn != 0, a.asn, s.reported_asn),
             a.as_org, a.net_class
           FROM ${stage} AS s LEFT JOIN ${stage}_addr AS a ON s.src_ip = a.ip
           ${later ? `LEFT JOIN ${stage}_unmapped AS u ON s.source_line = u.source_line` : ''}
           WHERE s.reason = ''${old > 0 ? ` AND s.event_id NOT IN (${alreadyStored})` : ''}
           ${unique ? '' : 'LIMIT 1 BY s.event_id'}
           SETTINGS join_use_nulls = 0, ${INSERT_SETTINGS}`,
          range,
        );
      }
    }
    const reasons = await engine.query<{ reason: string; n: number }>(
      `SELECT reason, count() AS n FROM quarantine WHERE ingest_id = {ingest:String} GROUP BY reason ORDER BY reason`,
      { ingest: ingestId },
    );
    const quarantined = reasons.reduce((n, r) => n + r.n, 0);
    const counts: IngestCounts = {
      read,
      stored,
      quarantined,
      duplicates: read - stored - quarantined,
      by_reason: Object.fromEntries(reasons.map((r) => [r.reason, r.n])),
    };
    await engine.insert('ingests', [
      {
        ingest_id: ingestId,
        source_file: input.label,
        bytes: input.inputBytes ?? input.bytes,
        read,
        stored,
        quarantined,
        duplicates: counts.duplicates,
        min_time: summary?.lo ?? '1970-01-01 00:00:00',
        max_time: summary?.hi ?? '1970-01-01 00:00:00',
        started_at: Math.floor(started / 1000),
        seconds: (Date.now() - started) / 1000,
      },
    ]);
    // The batch's unmatched tokens, for the scope (src/store/ledger.ts), from every valid row (a
    // superset of those stored). After the ingest's own line: should this fail, the store still
    // reconciles, and a scope finds the ledger short and rebuilds it.
    if (valid > 0)
      await recordBatchTokens(engine, {
        id: ingestId,
        rows: `(SELECT class_uid, token_id FROM ${stage} WHERE reason = '')`,
        events: stored,
        lo: summary!.lo,
        hi: summary!.hi,
      });
    return counts;
  } finally {
    await engine.exec(`DROP TABLE IF EXISTS ${stage}`);
    await engine.exec(`DROP TABLE IF EXISTS ${stage}_addr`);
    await engine.exec(`DROP TABLE IF EXISTS ${stage}_unmapped`);
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
 * piece. The price is each piece's fixed work (probe, planning, enrichment, ledger) and copying its
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
): AsyncGenerator<{ piece: InputFile; consumed: number }> {
  const gz = /\.gz$/i.test(input.path);
  if (input.bytes <= (gz ? pieceBytes / 4 : pieceBytes * 1.5)) {
    yield { piece: input, consumed: input.bytes };
    return;
  }
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
  try {
    for await (const read of lines) {
      // A piece ends at the first line end once it has its size.
      let chunk = read;
      for (;;) {
        const cut =
          bytes + chunk.length >= pieceBytes ? chunk.indexOf(10, Math.max(0, pieceBytes - bytes - 1)) : -1;
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
 * Ingests inputs in order (a large one in pieces, see `PIECE_BYTES`), reporting progress after
 * each input or piece; counts are summed across them.
 */
export async function ingestFiles(
  engine: Engine,
  inputs: readonly InputFile[],
  opts: IngestOptions,
): Promise<IngestCounts> {
  const total = emptyCounts();
  const bytes = inputs.reduce((n, f) => n + f.bytes, 0);
  const started = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-pieces-'));
  let bytesDone = 0;
  try {
    for (const [i, input] of inputs.entries()) {
      const pieces = piecesOf(input, opts.pieceBytes ?? PIECE_BYTES, dir);
      const partial = emptyCounts();
      // The next piece is cut from the input while the engine ingests this one; a failure to cut it
      // is taken when it is awaited, not reported as unhandled meanwhile.
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
            const counts = await ingestFile(engine, piece, opts);
            addCounts(total, counts);
            addCounts(partial, counts);
          } finally {
            if (piece.path !== input.path) fs.rmSync(piece.path, { force: true });
          }
          opts.onProgress?.({
            filesDone: consumed >= input.bytes ? i + 1 : i,
            files: inputs.length,
            bytesDone: bytesDone + Math.min(consumed, input.bytes),
            bytes,
            read: total.read,
            seconds: (Date.now() - started) / 1000,
          });
        }
      } catch (err) {
        const reason = decompressionFailure(err);
        throw reason === undefined ? err : new UnreadableInput(input.label, reason, i, partial);
      } finally {
        // On a failed ingest, the piece being cut is finished and dropped before its folder goes.
        await next.catch(() => undefined);
        await pieces.return(undefined);
      }
      bytesDone += input.bytes;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return total;
}
