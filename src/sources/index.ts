/** Sources: everything that brings data into the workspace (events, reference data, enrichment). */
import { UserError } from '../cli/errors.ts';
import type { Engine, Workspace } from '../store/index.ts';
import { cloudtrail, envoy, nginx, pgaudit, withFieldMap } from './adapters/index.ts';
import { loadIpDatabase, sqlEnrichAddresses } from './enrich/index.ts';
import { expandInputs } from './inputs.ts';
import {
  emptyCounts,
  type IngestCounts,
  type IngestProgress,
  ingestFiles,
  UnreadableInput,
} from './ocsf/ingest.ts';
import { ocsf } from './ocsf/parse.ts';
import { type EventRecord, readRecords } from './records.ts';
import {
  currentSettings,
  loadCatalog,
  loadKeys,
  loadPeople,
  loadServices,
  loadSettings,
  type ReferenceLoad,
} from './reference/index.ts';
import type { EventSource } from './source.ts';

export { expandInputs } from './inputs.ts';
export type { Enrichment, IngestCounts, IngestProgress, InputFile } from './ocsf/ingest.ts';
export { addCounts, emptyCounts, FILE_LINES, ingestFiles } from './ocsf/ingest.ts';
export type { EventRecord } from './records.ts';
export type { EventSource } from './source.ts';
export { type WorkspaceStatus, workspaceStatus } from './status.ts';

/** Event formats by name (`vigil ingest --format`). */
export const eventSources = new Map<string, EventSource>([
  [ocsf.name, ocsf],
  [nginx.name, nginx],
  [envoy.name, envoy],
  [pgaudit.name, pgaudit],
  [cloudtrail.name, cloudtrail],
]);

/**
 * The stored events with these ids as they came in: source position, line verbatim, and what Vigil
 * does not map (see `readRecords`).
 */
export function eventRecords(engine: Engine, ids: readonly string[]): Promise<EventRecord[]> {
  return readRecords(engine, eventSources, ids);
}

export interface ReferenceFiles {
  people?: string | undefined;
  keys?: string | undefined;
  services?: string | undefined;
  catalog?: string | undefined;
  settings?: string | undefined;
}

export interface IngestRequest {
  format?: string;
  /** Field-map file for formats read through one (nginx, envoy). */
  fieldMap?: string;
  reference?: ReferenceFiles;
  onProgress?: (p: IngestProgress) => void;
}

/**
 * Loads reference data first (settings, catalog, roster, keys, services: later loads may rely on
 * earlier ones), then events in the requested format.
 */
export async function ingestInputs(
  ws: Workspace,
  paths: readonly string[],
  req: IngestRequest = {},
): Promise<{ counts: IngestCounts; reference: ReferenceLoad[] }> {
  const engine = ws.engine;
  const reference: ReferenceLoad[] = [];
  const r = req.reference ?? {};
  if (r.settings) reference.push(await loadSettings(engine, r.settings));
  if (r.catalog) reference.push(await loadCatalog(engine, r.catalog));
  if (r.people) reference.push(await loadPeople(engine, r.people));
  if (r.keys) reference.push(await loadKeys(engine, r.keys));
  if (r.services) reference.push(await loadServices(engine, r.services));
  if (paths.length === 0) return { counts: emptyCounts(), reference };

  const format = req.format ?? 'ocsf';
  const known = eventSources.get(format);
  if (!known) {
    throw new UserError(
      `unknown format "${format}"`,
      `Known formats: ${[...eventSources.keys()].join(', ')}.`,
    );
  }
  const source = req.fieldMap ? withFieldMap(known, req.fieldMap) : known;
  const settings = await currentSettings(engine);
  await loadIpDatabase(engine);
  const { files, cleanup } = await expandInputs(paths);
  try {
    const counts = await ingestFiles(engine, files, {
      source,
      enrichment: sqlEnrichAddresses,
      maxLineBytes: settings.ingest.max_line_bytes,
      ...(req.onProgress ? { onProgress: req.onProgress } : {}),
    });
    return { counts, reference };
  } catch (err) {
    if (!(err instanceof UnreadableInput)) throw err;
    const stored =
      err.partial.read > 0
        ? `Its first ${err.partial.read} lines were read (${err.partial.stored} stored)`
        : 'Nothing from it was stored';
    const before = err.before > 0 ? `; the ${err.before} input(s) before it were ingested` : '';
    throw new UserError(
      err.message,
      `${stored}${before}. Check it (gzip -t ${err.label}) or fetch it again, then ingest it again: what is already stored counts as duplicates.`,
    );
  } finally {
    cleanup();
  }
}
