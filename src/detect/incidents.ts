import { createHash } from 'node:crypto';
import type { SiteSettings } from '../sources/reference/index.ts';
import type { Engine } from '../store/index.ts';
import type { DetectorMeta, EntityRef, Severity } from './detector.ts';
import { FINDING_COLUMNS, fromRow, type StoredFinding } from './findings.ts';
import {
  appendIncidentVersions,
  CLOSED_STATUSES,
  type IncidentRecord,
  loadIncidentRecords,
} from './incident-store.ts';
import { LinkRule } from './linking.ts';
import { type Contribution, horizonMs, incidentSeverity, riskAt } from './risk.ts';
import { jsonList, sqlJsonList, sqlTime } from './sql.ts';

/**
 * The incident stage: turns findings into few incidents.
 *
 * - Risk per entity accumulates over its findings and decays (risk.ts). An incident is raised when
 *   an entity's risk reaches `risk_threshold`; weaker signals stay findings. `detected_at` is the
 *   end of that finding's window (event time).
 * - A finding that shares a linking entity (linking.ts) with an open incident joins it; one that
 *   links two open incidents merges them into the older one (union-find, persisted: members map
 *   entities to incidents, merged incidents point to their root). A campaign is one incident that
 *   grows — last_seen, counts, entities — not one alert per window.
 * - When an incident is raised, the entity's earlier findings join it as its history.
 *
 * Findings are taken in event-time order of their windows; the stage keeps its state in memory
 * for a run and appends what changed after each batch.
 */

export interface IncidentParams {
  risk_threshold: number;
  half_life_hours: number;
  /** Entities listed on an incident, at most (all linking ones are remembered regardless). */
  max_entities: number;
  /** Comma-separated categories that make an incident one level more severe. */
  sensitive_categories: string;
  /** Comma-separated network classes whose addresses never link findings. */
  shared_net_classes: string;
}

export const INCIDENT_DEFAULTS: IncidentParams = {
  risk_threshold: 60,
  half_life_hours: 24,
  max_entities: 100,
  sensitive_categories: 'door_code,payment,credential',
  shared_net_classes: 'mobile,private',
};

export function incidentParams(settings: SiteSettings): IncidentParams {
  const o = (settings.detection?.incidents ?? {}) as Partial<IncidentParams>;
  return { ...INCIDENT_DEFAULTS, ...o };
}

const key = (e: EntityRef) => `${e.type}\u0000${e.id}`;
const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/**
 * The event-time span a finding covers: `evidence.first_seen`/`last_seen` when given, else its
 * window; null for a finding about no events (e.g. key hygiene), which does not move an incident's span.
 */
function span(f: StoredFinding): [number, number] | null {
  const at = (v: unknown) => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? Date.parse(v) : null);
  const first = at(f.evidence.first_seen);
  const last = at(f.evidence.last_seen);
  if (first !== null && last !== null) return [first, last];
  const examples = f.evidence.example_event_ids;
  if (Array.isArray(examples) && examples.length === 0) return null;
  return [Date.parse(f.window_start), Date.parse(f.window_end)];
}

export interface GroupResult {
  created: number;
  updated: number;
}

export class IncidentGrouper {
  private readonly params: IncidentParams;
  private readonly halfLife: number;
  private readonly links: LinkRule;
  private incidents = new Map<string, IncidentRecord>();
  /** Linking entity → the incident it was (last) grouped into. */
  private members = new Map<string, string>();
  private loaded = false;
  private dirty = new Set<string>();
  private created = new Set<string>();
  private newMembers: { entity_type: string; entity_id: string; incident_id: string; added_at: string }[] =
    [];
  private newLinks: { incident_id: string; finding_id: string; window_end: string }[] = [];
  private attached = new Map<string, string>();
  private persons = new Map<string, string | null>();

  constructor(
    private readonly engine: Engine,
    settings: SiteSettings,
    private readonly metas: ReadonlyMap<string, DetectorMeta>,
  ) {
    this.params = incidentParams(settings);
    this.halfLife = this.params.half_life_hours * 3_600_000;
    this.links = new LinkRule(engine, settings, { sharedNetClasses: list(this.params.shared_net_classes) });
  }

  private async load(): Promise<void> {
    if (this.loaded) return;
    for (const r of await loadIncidentRecords(this.engine)) this.incidents.set(r.id, r);
    const rows = await this.engine.query<{ entity_type: string; entity_id: string; incident_id: string }>(
      `SELECT entity_type, entity_id, argMax(incident_id, added_at) AS incident_id
       FROM incident_members GROUP BY entity_type, entity_id`,
    );
    for (const r of rows) this.members.set(`${r.entity_type}\u0000${r.entity_id}`, r.incident_id);
    this.loaded = true;
  }

  private root(id: string): IncidentRecord | undefined {
    let r = this.incidents.get(id);
    for (let hops = 0; r && r.status === 'merged' && r.merged_into && hops < 100; hops++)
      r = this.incidents.get(r.merged_into);
    return r;
  }

  /** Groups new or changed findings (already saved) and appends the incident changes. */
  async add(findings: readonly StoredFinding[]): Promise<GroupResult> {
    if (findings.length === 0) return { created: 0, updated: 0 };
    await this.load();
    const sorted = findings
      .map((f) => ({ ...f }))
      .sort(
        (a, b) =>
          a.window_end.localeCompare(b.window_end) ||
          a.detector.localeCompare(b.detector) ||
          key(a.entity).localeCompare(key(b.entity)),
      );
    const from = new Date(Date.parse(sorted[0].window_start) - 86_400_000);
    const to = new Date(Date.parse(sorted[sorted.length - 1].window_end));
    await this.links.prepare(
      sorted.flatMap((f) => [f.entity, ...f.related]),
      from,
      to,
    );
    await this.withPersons(sorted);
    const history = await this.contributions(sorted);
    await this.loadAttached(sorted.map((f) => f.id));
    for (const f of sorted) await this.place(f, history.get(key(f.entity)) ?? []);
    return this.flush();
  }

  /** Accounts that belong to a person bring the person along: incidents name who, not only which account. */
  private async withPersons(findings: StoredFinding[]): Promise<void> {
    const actors = [
      ...new Set(
        findings
          .flatMap((f) => [f.entity, ...f.related])
          .filter((e) => e.type === 'actor')
          .map((e) => e.id),
      ),
    ].filter((a) => !this.persons.has(a));
    if (actors.length > 0) {
      const rows = await this.engine.query<{ principal_id: string; person_id: string }>(
        `SELECT principal_id, any(person_id) AS person_id FROM principals_current
         WHERE principal_id IN (SELECT arrayJoin(${sqlJsonList('actors')})) GROUP BY principal_id`,
        { actors: jsonList(actors) },
      );
      for (const a of actors) this.persons.set(a, null);
      for (const r of rows) this.persons.set(r.principal_id, r.person_id);
    }
    for (const f of findings) {
      const have = new Set([f.entity, ...f.related].map(key));
      for (const e of [f.entity, ...f.related]) {
        const person = e.type === 'actor' ? this.persons.get(e.id) : null;
        if (person && !have.has(`person\u0000${person}`)) {
          f.related = [...f.related, { type: 'person', id: person }];
          have.add(`person\u0000${person}`);
        }
      }
    }
  }

  /** Every stored finding of the entities involved, within the risk horizon of this batch. */
  private async contributions(findings: readonly StoredFinding[]): Promise<Map<string, Contribution[]>> {
    const entities = [...new Set(findings.map((f) => key(f.entity)))];
    const first = Math.min(...findings.map((f) => Date.parse(f.window_end)));
    const last = Math.max(...findings.map((f) => Date.parse(f.window_end)));
    const rows = await this.engine.query<{ k: string; score: number; window_end: string }>(
      `SELECT concat(entity_type, '\\0', entity_id) AS k, score, window_end FROM (
         SELECT finding_id, entity_type, entity_id, score, window_end FROM findings
         WHERE entity_id IN (SELECT arrayJoin(arrayMap(x -> splitByChar('\\0', x)[2], ${sqlJsonList('keys')})))
           AND window_end >= {from:DateTime64(3, 'UTC')} AND window_end <= {to:DateTime64(3, 'UTC')}
         ORDER BY finding_id, version DESC LIMIT 1 BY finding_id)
       WHERE k IN (SELECT arrayJoin(${sqlJsonList('keys')}))`,
      {
        keys: jsonList(entities),
        from: sqlTime(new Date(first - horizonMs(this.halfLife))),
        to: sqlTime(new Date(last)),
      },
    );
    const out = new Map<string, Contribution[]>();
    for (const r of rows) {
      const list = out.get(r.k) ?? [];
      list.push({ score: Number(r.score), at: Date.parse(`${r.window_end.replace(' ', 'T')}Z`) });
      out.set(r.k, list);
    }
    return out;
  }

  private async loadAttached(ids: string[]): Promise<void> {
    const rows = await this.engine.query<{ finding_id: string; incident_id: string }>(
      `SELECT finding_id, any(incident_id) AS incident_id FROM incident_findings
       WHERE finding_id IN (SELECT arrayJoin(${sqlJsonList('ids')})) GROUP BY finding_id`,
      { ids: jsonList(ids) },
    );
    for (const r of rows) this.attached.set(r.finding_id, r.incident_id);
  }

  private async place(f: StoredFinding, contributions: Contribution[]): Promise<void> {
    const t = Date.parse(f.window_end);
    const risk = riskAt(contributions, t, this.halfLife);
    // A finding about an entity many parties share (an ASN, a subnet, a user agent, a NAT address)
    // lists its biggest contributors as related, and they need not be one party. So it continues
    // its own stream (the incident already holding that entity), or else joins the incident its
    // biggest related contributor belongs to; it never merges incidents. It raises its own only when
    // none of its contributors is in an incident yet: an ASN's fan-out made of two known campaigns
    // is evidence for them, not a third incident.
    const specific = this.links.links(f.entity);
    const linking = specific ? [f.entity, ...f.related].filter((e) => this.links.links(e)) : [];
    const roots = new Map<string, IncidentRecord>();
    const already = this.attached.get(f.id);
    if (already) {
      const r = this.root(already);
      if (r) roots.set(r.id, r);
    }
    for (const e of linking) {
      const id = this.members.get(key(e));
      const r = id ? this.root(id) : undefined;
      if (r && !CLOSED_STATUSES.has(r.status)) roots.set(r.id, r);
    }
    if (!specific && roots.size === 0) {
      const stream = this.members.get(key(f.entity));
      const own = stream ? this.root(stream) : undefined;
      if (own && !CLOSED_STATUSES.has(own.status)) roots.set(own.id, own);
      else {
        // Related entities come biggest first.
        for (const e of f.related.filter((x) => this.links.links(x))) {
          const id = this.members.get(key(e));
          const r = id ? this.root(id) : undefined;
          if (r && !CLOSED_STATUSES.has(r.status)) {
            roots.set(r.id, r);
            break;
          }
        }
      }
    }
    let target: IncidentRecord;
    if (roots.size > 0) {
      const [first, ...rest] = [...roots.values()].sort(
        (a, b) => a.detected_at - b.detected_at || a.id.localeCompare(b.id),
      );
      target = first;
      for (const other of rest) this.merge(target, other);
    } else if (risk >= this.params.risk_threshold) {
      target = this.raise(f, risk);
      for (const prior of await this.priorFindings(f)) this.attach(target, prior, risk);
    } else {
      return;
    }
    this.attach(target, f, risk);
    // A finding that joins late (e.g. a retro-hunt) can move detection earlier.
    if (risk >= this.params.risk_threshold && t < target.detected_at) target.detected_at = t;
  }

  private raise(f: StoredFinding, risk: number): IncidentRecord {
    const id = `inc-${createHash('sha256').update(f.id).digest('hex').slice(0, 12)}`;
    const meta = this.metas.get(f.detector);
    const r: IncidentRecord = {
      id,
      version: this.incidents.get(id)?.version ?? 0,
      title: `${meta?.title ?? f.detector}: ${f.entity.type} ${f.entity.id}`,
      summary: f.summary,
      severity: meta?.severity ?? 'medium',
      status: 'open',
      merged_into: '',
      first_seen: span(f)?.[0] ?? Date.parse(f.window_start),
      detected_at: Date.parse(f.window_end),
      last_seen: span(f)?.[1] ?? Date.parse(f.window_end),
      risk,
      entities: [],
      categories: [],
      detectors: [],
      finding_count: 0,
    };
    this.incidents.set(id, r);
    this.created.add(id);
    this.dirty.add(id);
    return r;
  }

  /** The entity's earlier findings that belong to no incident yet: the history of a new incident. */
  private async priorFindings(f: StoredFinding): Promise<StoredFinding[]> {
    const rows = await this.engine.query<Parameters<typeof fromRow>[0]>(
      `SELECT ${FINDING_COLUMNS} FROM findings
       WHERE entity_type = {type:String} AND entity_id = {id:String} AND window_end < {t:DateTime64(3, 'UTC')}
         AND finding_id NOT IN (SELECT finding_id FROM incident_findings)
       ORDER BY finding_id, version DESC LIMIT 1 BY finding_id`,
      { type: f.entity.type, id: f.entity.id, t: sqlTime(new Date(f.window_end)) },
    );
    return rows
      .map(fromRow)
      .filter((p) => !this.attached.has(p.id))
      .sort((a, b) => a.window_end.localeCompare(b.window_end))
      .slice(-1000);
  }

  private attach(r: IncidentRecord, f: StoredFinding, risk: number): void {
    const isNew = !this.attached.has(f.id);
    if (isNew) {
      this.attached.set(f.id, r.id);
      this.newLinks.push({
        incident_id: r.id,
        finding_id: f.id,
        window_end: sqlTime(new Date(f.window_end)),
      });
      r.finding_count += 1;
    }
    // A shared entity is remembered only as its own finding stream; its related entities are not
    // members, so they never pull other findings in.
    const members = this.links.links(f.entity)
      ? [f.entity, ...f.related].filter((e) => this.links.links(e))
      : [f.entity];
    for (const e of members) {
      if (this.members.get(key(e)) === r.id) continue;
      const current = this.members.get(key(e));
      if (current && this.root(current)?.id === r.id) continue;
      this.members.set(key(e), r.id);
      this.newMembers.push({
        entity_type: e.type,
        entity_id: e.id,
        incident_id: r.id,
        added_at: sqlTime(new Date(f.window_end)),
      });
    }
    // A shared entity's contributors need not be one party, and scope reads the incident's entities:
    // in an incident it raised itself it lists those no other incident holds; in one it joined,
    // only those already in it (an ASN's other addresses may be another campaign's).
    const inTarget = (e: EntityRef) => {
      const m = this.members.get(key(e));
      return m !== undefined && this.root(m)?.id === r.id;
    };
    const ownStream = r.entities.length === 0 || key(r.entities[0]) === key(f.entity);
    const listed = this.links.links(f.entity)
      ? f.related
      : f.related.filter((e) => (ownStream ? !this.members.has(key(e)) || inTarget(e) : inTarget(e)));
    this.addEntities(r, [f.entity, ...listed]);
    const seen = span(f);
    if (seen) {
      r.first_seen = Math.min(r.first_seen, seen[0]);
      r.last_seen = Math.max(r.last_seen, seen[1]);
    }
    r.risk = Math.max(r.risk, risk);
    const cats = Array.isArray(f.evidence.categories) ? (f.evidence.categories as unknown[]).map(String) : [];
    r.categories = [...new Set([...r.categories, ...cats])].sort();
    if (!r.detectors.includes(f.detector)) r.detectors = [...r.detectors, f.detector].sort();
    this.rate(r);
    this.dirty.add(r.id);
  }

  private addEntities(r: IncidentRecord, refs: readonly EntityRef[]): void {
    const have = new Set(r.entities.map(key));
    for (const e of refs) {
      if (e.id === '' || have.has(key(e))) continue;
      // The finding's own entity is always listed; related ones while there is room.
      if (e !== refs[0] && r.entities.length >= this.params.max_entities) continue;
      r.entities.push(e);
      have.add(key(e));
    }
  }

  private merge(into: IncidentRecord, other: IncidentRecord): void {
    into.first_seen = Math.min(into.first_seen, other.first_seen);
    into.detected_at = Math.min(into.detected_at, other.detected_at);
    into.last_seen = Math.max(into.last_seen, other.last_seen);
    into.risk = Math.max(into.risk, other.risk);
    into.finding_count += other.finding_count;
    this.addEntities(into, other.entities);
    into.categories = [...new Set([...into.categories, ...other.categories])].sort();
    into.detectors = [...new Set([...into.detectors, ...other.detectors])].sort();
    other.status = 'merged';
    other.merged_into = into.id;
    this.rate(into);
    this.dirty.add(into.id);
    this.dirty.add(other.id);
  }

  private rate(r: IncidentRecord): void {
    const sevs = r.detectors.map((d) => this.metas.get(d)?.severity).filter((s): s is Severity => Boolean(s));
    r.severity = incidentSeverity({
      detectorSeverities: sevs,
      risk: r.risk,
      threshold: this.params.risk_threshold,
      categories: r.categories,
      sensitive: list(this.params.sensitive_categories),
    });
  }

  private async flush(): Promise<GroupResult> {
    // Findings and members first: an incident version never names findings that are not stored.
    await this.engine.insert('incident_findings', this.newLinks);
    await this.engine.insert('incident_members', this.newMembers);
    // Workflow may have appended versions (a status change) since they were loaded: keep its status.
    const ids = [...this.dirty];
    const latestRows = await this.engine.query<{ incident_id: string; v: number; status: string }>(
      `SELECT incident_id, max(version) AS v, argMax(status, version) AS status FROM incidents
       WHERE incident_id IN (SELECT arrayJoin(${sqlJsonList('ids')})) GROUP BY incident_id`,
      { ids: jsonList(ids) },
    );
    const stored = new Map(latestRows.map((x) => [x.incident_id, x]));
    const versions = ids.map((id) => {
      const r = this.incidents.get(id)!;
      const s = stored.get(id);
      if (s && Number(s.v) > r.version) {
        if (r.status !== 'merged') r.status = s.status;
        r.version = Number(s.v);
      }
      r.version += 1;
      return r;
    });
    await appendIncidentVersions(this.engine, versions);
    const result = { created: this.created.size, updated: versions.length - this.created.size };
    this.dirty.clear();
    this.created.clear();
    this.newLinks = [];
    this.newMembers = [];
    return result;
  }
}
