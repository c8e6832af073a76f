import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../cli/errors.ts';
import type { Workspace } from '../store/index.ts';
import { currentUser, recordAudit } from './audit.ts';
import { latestScope, scopeIncident } from './scope.ts';
import { sqlIso } from './sql.ts';
import type { ExportFormat, Exposure, ScopeIncident, ScopeOptions } from './types.ts';

const ENGINE_FORMAT: Record<ExportFormat, string> = {
  jsonl: 'JSONEachRow',
  csv: 'CSVWithNames',
  parquet: 'Parquet',
};

/** The export's columns: text times and a `;`-joined category list for text formats, native types for Parquet. */
function exportSql(format: ExportFormat): string {
  const text = format !== 'parquet';
  const cats = format === 'csv' ? `arrayStringConcat(categories, ';')` : "CAST(categories, 'Array(String)')";
  return `SELECT subject_id, toString(subject_type) AS subject_type, ${cats} AS categories,
      ${text ? sqlIso('first_exposed') : 'first_exposed'} AS first_exposed,
      ${text ? sqlIso('last_exposed') : 'last_exposed'} AS last_exposed,
      events, toString(confidence) AS confidence, toString(indicator) AS indicator
    FROM exposures WHERE computation_id = {cid:String} ORDER BY subject_id`;
}

export function formatOf(file: string): ExportFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv') return 'csv';
  if (ext === '.parquet') return 'parquet';
  throw new UserError(`cannot tell the export format of ${file}`, 'Name the file .jsonl, .csv or .parquet.');
}

/**
 * The computation to export: the given one; else with `fresh`, the one for the current events and
 * catalog (reused or computed); else the newest stored (what the console shows), else a new one.
 */
async function computationFor(
  ws: Workspace,
  incident: ScopeIncident,
  opts: ScopeOptions & { computation?: string; fresh?: boolean },
): Promise<{ cid: string; rows: number }> {
  if (opts.computation) {
    const [r] = await ws.engine.query<{ n: number }>(
      'SELECT count() AS n FROM exposures WHERE computation_id = {cid:String}',
      { cid: opts.computation },
    );
    return { cid: opts.computation, rows: r?.n ?? 0 };
  }
  const s =
    (opts.fresh ? null : await latestScope(ws.engine, incident.id)) ??
    (await scopeIncident(ws, incident, opts));
  return { cid: s.computation_id, rows: s.subjects };
}

/**
 * The exposure of an incident as a byte stream in `format`, straight from the engine: the rows are
 * never held in JavaScript. Not audited here: callers that hand the stream to someone record it
 * (the server per request, `writeExposureFile` per file).
 */
export async function* exportExposure(
  ws: Workspace,
  incident: ScopeIncident,
  opts: ScopeOptions & { format: ExportFormat; computation?: string },
): AsyncIterable<Uint8Array> {
  const { cid } = await computationFor(ws, incident, opts);
  yield* ws.engine.streamRaw(exportSql(opts.format), ENGINE_FORMAT[opts.format], { cid });
}

/** A page of exposure rows (for a console table), from the newest computation. */
export async function exposureRows(
  ws: Workspace,
  incident: ScopeIncident,
  opts: { limit?: number; offset?: number; computation?: string } = {},
): Promise<Exposure[]> {
  const { cid } = await computationFor(ws, incident, opts);
  return ws.engine.query<Exposure>(`${exportSql('jsonl')} LIMIT {limit:UInt64} OFFSET {offset:UInt64}`, {
    cid,
    limit: opts.limit ?? 100,
    offset: opts.offset ?? 0,
  });
}

export interface ExportResult {
  file: string;
  format: ExportFormat;
  computation_id: string;
  rows: number;
  bytes: number;
  seconds: number;
}

/**
 * Writes one row per exposed subject to `file` (format from its extension) from the given
 * computation, or else the one for the current events and catalog, streamed from the
 * engine with backpressure, into a temporary name renamed at the end so no half file is left.
 * Audited with the destination and row count.
 */
export async function writeExposureFile(
  ws: Workspace,
  incident: ScopeIncident,
  file: string,
  opts: ScopeOptions & { computation?: string } = {},
): Promise<ExportResult> {
  const format = formatOf(file);
  const started = Date.now();
  const { cid, rows } = await computationFor(ws, incident, { fresh: true, ...opts });
  const target = path.resolve(file);
  const partial = `${target}.partial-${process.pid}`;
  const out = fs.createWriteStream(partial);
  let bytes = 0;
  try {
    for await (const chunk of ws.engine.streamRaw(exportSql(format), ENGINE_FORMAT[format], { cid })) {
      bytes += chunk.length;
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
    }
    await new Promise<void>((resolve, reject) =>
      out.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
    fs.renameSync(partial, target);
  } catch (err) {
    out.destroy();
    fs.rmSync(partial, { force: true });
    throw err;
  }
  const seconds = (Date.now() - started) / 1000;
  await recordAudit(ws.engine, {
    who: opts.who ?? currentUser(),
    ...(opts.role ? { role: opts.role } : {}),
    action: 'scope.export',
    incident: incident.id,
    rows,
    target,
    detail: `computation ${cid}, ${format}, ${bytes} bytes`,
  });
  return { file: target, format, computation_id: cid, rows, bytes, seconds };
}
