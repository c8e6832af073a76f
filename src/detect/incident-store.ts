import type { Engine } from '../store/index.ts';
import type { EntityRef, EntityType, Finding, Severity } from './detector.ts';
import { type FindingQuery, incidentFamily, listFindings, type StoredFinding } from './findings.ts';
import { isoTime, sqlTime } from './sql.ts';

/**
 * Incidents as stored: one row per version, the current incident is its highest version. The
 * grouping stage appends a version when an incident grows; workflow (status changes) may append
 * versions too, and the grouping stage keeps the status it finds.
 */

/** Statuses after which new findings start a new incident instead of joining this one. */
export const CLOSED_STATUSES: ReadonlySet<string> = new Set([
  'closed',
  'resolved',
  'false_positive',
  'merged',
]);

export interface IncidentRecord {
  id: string;
  version: number;
  title: string;
  summary: string;
  severity: Severity;
  /** `open` when raised; workflow may change it; `merged` when folded into `merged_into`. */
  status: string;
  merged_into: string;
  /** Event times, epoch ms. */
  first_seen: number;
  detected_at: number;
  last_seen: number;
  risk: number;
  entities: EntityRef[];
  categories: string[];
  detectors: string[];
  finding_count: number;
}

interface IncidentRow {
  incident_id: string;
  version: number;
  title: string;
  summary: string;
  severity: string;
  status: string;
  merged_into: string;
  first_seen: string;
  detected_at: string;
  last_seen: string;
  risk: number;
  entity_types: string[];
  entity_ids: string[];
  categories: string[];
  detectors: string[];
  finding_count: number;
}

const ms = (s: string) => Date.parse(`${s.replace(' ', 'T')}Z`);

function fromRow(r: IncidentRow): IncidentRecord {
  return {
    id: r.incident_id,
    version: Number(r.version),
    title: r.title,
    summary: r.summary,
    severity: r.severity as Severity,
    status: r.status,
    merged_into: r.merged_into,
    first_seen: ms(r.first_seen),
    detected_at: ms(r.detected_at),
    last_seen: ms(r.last_seen),
    risk: Number(r.risk),
    entities: r.entity_types.map((type, i) => ({ type: type as EntityType, id: r.entity_ids[i] })),
    categories: r.categories,
    detectors: r.detectors,
    finding_count: Number(r.finding_count),
  };
}

/** Current version of every incident (merged ones included; callers filter). */
export async function loadIncidentRecords(engine: Engine, id?: string): Promise<IncidentRecord[]> {
  const rows = await engine.query<IncidentRow>(
    `SELECT * FROM incidents ${id ? 'WHERE incident_id = {id:String}' : ''}
     ORDER BY incident_id, version DESC LIMIT 1 BY incident_id`,
    id ? { id } : {},
  );
  return rows.map(fromRow);
}

export async function appendIncidentVersions(
  engine: Engine,
  records: readonly IncidentRecord[],
): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  await engine.insert(
    'incidents',
    records.map((r) => ({
      incident_id: r.id,
      version: r.version,
      title: r.title,
      summary: r.summary,
      severity: r.severity,
      status: r.status,
      merged_into: r.merged_into,
      first_seen: sqlTime(new Date(r.first_seen)),
      detected_at: sqlTime(new Date(r.detected_at)),
      last_seen: sqlTime(new Date(r.last_seen)),
      risk: r.risk,
      entity_types: r.entities.map((e) => e.type),
      entity_ids: r.entities.map((e) => e.id),
      categories: r.categories,
      detectors: r.detectors,
      finding_count: r.finding_count,
      updated_at: now,
    })),
  );
}

/** An incident as `vigil incidents --json` prints it (spec/interface.md), with a few extra fields. */
export interface Incident {
  id: string;
  title: string;
  severity: Severity;
  status: string;
  first_seen: string;
  detected_at: string;
  last_seen: string;
  entities: EntityRef[];
  findings: IncidentFinding[];
  summary: string;
  /** Peak risk of its entities when last updated. */
  risk: number;
  categories: string[];
  detectors: string[];
  counts: { findings: number; entities: number };
}

/** A finding as an incident lists it: the detector's finding plus its stored id. */
export interface IncidentFinding extends Finding {
  id: string;
}

export interface IncidentListOptions {
  /** Findings per incident to include, earliest first (those that raised it); default 100. */
  findingsLimit?: number;
  /** Include incidents whose status is closed/resolved/false_positive (default true); merged ones never show. */
  includeClosed?: boolean;
}

function present(r: IncidentRecord, findings: StoredFinding[]): Incident {
  return {
    id: r.id,
    title: r.title,
    severity: r.severity,
    status: r.status,
    first_seen: isoTime(new Date(r.first_seen)),
    detected_at: isoTime(new Date(r.detected_at)),
    last_seen: isoTime(new Date(r.last_seen)),
    entities: r.entities,
    findings: findings.map(({ version: _version, ...f }) => f),
    summary: r.summary,
    risk: r.risk,
    categories: r.categories,
    detectors: r.detectors,
    counts: { findings: r.finding_count, entities: r.entities.length },
  };
}

/** Incidents, most recently detected first, each with its first findings. */
export async function listIncidents(engine: Engine, opts: IncidentListOptions = {}): Promise<Incident[]> {
  const limit = opts.findingsLimit ?? 100;
  const records = (await loadIncidentRecords(engine))
    .filter((r) => r.status !== 'merged' && (opts.includeClosed !== false || !CLOSED_STATUSES.has(r.status)))
    .sort((a, b) => b.detected_at - a.detected_at || a.id.localeCompare(b.id));
  const out: Incident[] = [];
  for (const r of records) {
    const findings = limit > 0 ? await listFindings(engine, { incident: r.id, limit }) : [];
    out.push(present(r, findings));
  }
  return out;
}

/** One incident with its findings (all of them unless `findingsLimit`); null when unknown. */
export async function getIncident(
  engine: Engine,
  id: string,
  opts: Pick<FindingQuery, 'limit'> = {},
): Promise<Incident | null> {
  const [r] = await loadIncidentRecords(engine, id);
  if (!r) return null;
  if (r.status === 'merged' && r.merged_into) return getIncident(engine, r.merged_into, opts);
  return present(r, await listFindings(engine, { incident: r.id, ...opts }));
}

export { incidentFamily };
