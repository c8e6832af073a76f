import { createHash } from 'node:crypto';
import type { Engine } from '../store/index.ts';
import type { EntityRef, EntityType, Finding } from './detector.ts';
import { isoTime, jsonList, sqlJsonList, sqlTime } from './sql.ts';

/**
 * The findings table. A finding's id is a hash of (detector, entity, window start), so judging a
 * window again gives the same id; a row is appended only for a new finding or when its content
 * changed (late events made the window's counts grow). Reads take each id's highest version.
 */

/** A finding as stored: its id and version beside the detector's verdict. */
export interface StoredFinding extends Finding {
  id: string;
  version: number;
}

export function findingId(f: Pick<Finding, 'detector' | 'entity' | 'window_start'>): string {
  const h = createHash('sha256').update(`${f.detector}\n${f.entity.type}\n${f.entity.id}\n${f.window_start}`);
  return `f-${h.digest('hex').slice(0, 20)}`;
}

function contentHash(f: Finding): string {
  const body = JSON.stringify([f.score, f.summary, f.evidence, f.related, f.window_end]);
  return createHash('sha256').update(body).digest('hex').slice(0, 24);
}

interface FindingRow {
  finding_id: string;
  version: number;
  detector: string;
  entity_type: string;
  entity_id: string;
  window_start: string;
  window_end: string;
  score: number;
  summary: string;
  evidence: string;
  related_types: string[];
  related_ids: string[];
}

export const FINDING_COLUMNS =
  'finding_id, version, detector, entity_type, entity_id, window_start, window_end, score, summary, evidence, related_types, related_ids';

export function fromRow(r: FindingRow): StoredFinding {
  return {
    id: r.finding_id,
    version: Number(r.version),
    detector: r.detector,
    entity: { type: r.entity_type as EntityType, id: r.entity_id },
    window_start: isoTime(r.window_start),
    window_end: isoTime(r.window_end),
    score: Math.round(Number(r.score) * 100) / 100,
    summary: r.summary,
    evidence: JSON.parse(r.evidence) as Record<string, unknown>,
    related: r.related_types.map(
      (type, i): EntityRef => ({ type: type as EntityType, id: r.related_ids[i] }),
    ),
  };
}

export interface SaveResult {
  /** New findings and findings whose content changed, as now stored. */
  changed: StoredFinding[];
  created: number;
  updated: number;
}

/** Appends the findings that are new or changed; the rest are already stored as they are. */
export async function saveFindings(engine: Engine, findings: Finding[], runId: string): Promise<SaveResult> {
  if (findings.length === 0) return { changed: [], created: 0, updated: 0 };
  const detectors = [...new Set(findings.map((f) => f.detector))];
  const starts = findings.map((f) => Date.parse(f.window_start));
  const existing = new Map<string, { version: number; hash: string }>();
  const rows = await engine.query<{ finding_id: string; v: number; hash: string }>(
    `SELECT finding_id, max(version) AS v, argMax(content_hash, version) AS hash FROM findings
     WHERE detector IN (SELECT arrayJoin(${sqlJsonList('detectors')}))
       AND window_start >= {from:DateTime64(3, 'UTC')} AND window_start <= {to:DateTime64(3, 'UTC')}
     GROUP BY finding_id`,
    {
      detectors: jsonList(detectors),
      from: sqlTime(new Date(Math.min(...starts))),
      to: sqlTime(new Date(Math.max(...starts))),
    },
  );
  for (const r of rows) existing.set(r.finding_id, { version: Number(r.v), hash: r.hash });
  const changed: StoredFinding[] = [];
  const inserts: Record<string, unknown>[] = [];
  let created = 0;
  const now = Math.floor(Date.now() / 1000);
  const seen = new Set<string>();
  for (const f of findings) {
    const id = findingId(f);
    if (seen.has(id))
      throw new Error(`detector ${f.detector} returned two findings for one entity and window (${id})`);
    seen.add(id);
    const hash = contentHash(f);
    const prior = existing.get(id);
    if (prior && prior.hash === hash) continue;
    if (!prior) created++;
    const version = prior ? prior.version + 1 : 1;
    changed.push({ ...f, id, version });
    inserts.push({
      finding_id: id,
      version,
      detector: f.detector,
      entity_type: f.entity.type,
      entity_id: f.entity.id,
      window_start: sqlTime(new Date(f.window_start)),
      window_end: sqlTime(new Date(f.window_end)),
      score: f.score,
      summary: f.summary,
      evidence: JSON.stringify(f.evidence),
      related_types: f.related.map((r) => r.type),
      related_ids: f.related.map((r) => r.id),
      content_hash: hash,
      run_id: runId,
      created_at: now,
    });
  }
  await engine.insert('findings', inserts);
  return { changed, created, updated: changed.length - created };
}

export interface FindingQuery {
  /** Only the findings grouped into this incident (and incidents merged into it). */
  incident?: string;
  detector?: string;
  entity?: EntityRef;
  /** Event-time bounds on the window start. */
  since?: Date;
  until?: Date;
  limit?: number;
}

/** Current findings (highest version of each), ordered by window, then detector and entity. */
export async function listFindings(engine: Engine, q: FindingQuery = {}): Promise<StoredFinding[]> {
  const where: string[] = ['1'];
  const params: Record<string, string | number> = {};
  if (q.detector) {
    where.push('detector = {detector:String}');
    params.detector = q.detector;
  }
  if (q.entity) {
    where.push('entity_type = {etype:String} AND entity_id = {eid:String}');
    params.etype = q.entity.type;
    params.eid = q.entity.id;
  }
  if (q.since) {
    where.push("window_start >= {since:DateTime64(3, 'UTC')}");
    params.since = sqlTime(q.since);
  }
  if (q.until) {
    where.push("window_start < {until:DateTime64(3, 'UTC')}");
    params.until = sqlTime(q.until);
  }
  if (q.incident) {
    where.push(`finding_id IN (SELECT finding_id FROM incident_findings WHERE incident_id IN (
      SELECT arrayJoin(${sqlJsonList('incidents')})))`);
    params.incidents = jsonList(await incidentFamily(engine, q.incident));
  }
  const rows = await engine.query<FindingRow>(
    `SELECT ${FINDING_COLUMNS} FROM findings WHERE ${where.join(' AND ')}
     ORDER BY finding_id, version DESC LIMIT 1 BY finding_id`,
    params,
  );
  const out = rows.map(fromRow);
  out.sort(
    (a, b) =>
      a.window_start.localeCompare(b.window_start) ||
      a.detector.localeCompare(b.detector) ||
      a.entity.type.localeCompare(b.entity.type) ||
      a.entity.id.localeCompare(b.entity.id),
  );
  return q.limit ? out.slice(0, q.limit) : out;
}

/** An incident and every incident merged into it, directly or through others. */
export async function incidentFamily(engine: Engine, root: string): Promise<string[]> {
  const rows = await engine.query<{ incident_id: string; merged_into: string }>(
    `SELECT incident_id, argMax(merged_into, version) AS merged_into FROM incidents GROUP BY incident_id`,
  );
  const children = new Map<string, string[]>();
  for (const r of rows) {
    if (!r.merged_into) continue;
    children.set(r.merged_into, [...(children.get(r.merged_into) ?? []), r.incident_id]);
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}
