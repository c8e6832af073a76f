import { createHash } from 'node:crypto';
import type { Engine, Workspace } from '../store/index.ts';
import { type Asker, type Domain, domain as defaultDomain, type Incident } from './domain.ts';
import { incidentEntities } from './entities.ts';
import { incidentTimeline } from './timeline.ts';

/**
 * The console's views of an incident, kept as computed (`incident_views`) so that an incident page
 * is served at once, also by a server that has just started: on 10 M events a timeline or the
 * entities take a second or two to compute, far over the page's budget. Each stored view carries
 * the fingerprint of the data it was computed from; a stored view whose fingerprint no longer
 * matches is still served while a fresh one is computed (see `context.ts`). The scope summary has
 * its own store (`scope_runs`).
 */
export const VIEWS = {
  timeline: (engine: Engine, incident: Incident) => incidentTimeline(engine, incident),
  entities: (engine: Engine, incident: Incident) => incidentEntities(engine, incident),
};
export type ViewName = keyof typeof VIEWS;
export type ViewValue<V extends ViewName> = Awaited<ReturnType<(typeof VIEWS)[V]>>;

/** What a view depends on: stored events, reference data, and the incident as detection left it. */
export async function viewFingerprint(engine: Engine, incident: Incident): Promise<string> {
  const [state] = await engine.query<Record<string, number>>(
    `SELECT (SELECT count() FROM events) AS events, (SELECT count() FROM ingests) AS ingests,
       (SELECT max(load_seq) FROM reference_loads) AS reference`,
  );
  const entities = incident.entities.map((e) => `${e.type}:${e.id}`).sort();
  return createHash('sha256')
    .update(
      JSON.stringify({
        state,
        first: incident.first_seen,
        last: incident.last_seen,
        entities,
        detected: incident.detected_at,
      }),
    )
    .digest('hex');
}

/** The newest stored view, and whether it was computed from the data as it is now. */
export async function storedView<V extends ViewName>(
  engine: Engine,
  incident: Incident,
  view: V,
  fingerprint?: string,
): Promise<{ value: ViewValue<V>; fresh: boolean } | null> {
  const [row] = await engine.query<{ fingerprint: string; body: string }>(
    `SELECT fingerprint, body FROM incident_views WHERE incident = {incident:String} AND view = {view:String}
     ORDER BY computed_at DESC LIMIT 1`,
    { incident: incident.id, view },
  );
  if (!row) return null;
  const fp = fingerprint ?? (await viewFingerprint(engine, incident));
  return { value: JSON.parse(row.body) as ViewValue<V>, fresh: row.fingerprint === fp };
}

/** Computes a view and stores it. The fingerprint (`fp` if the caller just took it) comes first: data arriving meanwhile makes it stale. */
export async function computeView<V extends ViewName>(
  engine: Engine,
  incident: Incident,
  view: V,
  fp?: string,
): Promise<ViewValue<V>> {
  const fingerprint = fp ?? (await viewFingerprint(engine, incident));
  const value = (await VIEWS[view](engine, incident)) as ViewValue<V>;
  await engine.insert('incident_views', [
    {
      incident: incident.id,
      view,
      fingerprint,
      computed_at: new Date().toISOString().replace('T', ' ').replace('Z', ''),
      body: JSON.stringify(value),
    },
  ]);
  return value;
}

export interface PrecomputeOptions {
  /** Who the scope computations are recorded as in the audit log. */
  asker: Asker;
  domain?: Domain;
  /** Called after each incident. */
  progress?: (done: number, total: number) => void;
}

/**
 * Brings every open incident's views and scope up to date, computing only what is stale, so the
 * console opens on results: `vigil detect` runs it after detection, the server after each pass.
 */
export async function precomputeViews(
  ws: Workspace,
  opts: PrecomputeOptions,
): Promise<{ incidents: number; computed: number }> {
  const domain = opts.domain ?? defaultDomain;
  const open = (await domain.listIncidents(ws.engine)).filter((i) => i.status === 'open');
  let computed = 0;
  for (const [n, listed] of open.entries()) {
    const incident = (await domain.getIncident(ws.engine, listed.id)) ?? listed;
    const fp = await viewFingerprint(ws.engine, incident);
    for (const view of Object.keys(VIEWS) as ViewName[]) {
      if ((await storedView(ws.engine, incident, view, fp))?.fresh) continue;
      await computeView(ws.engine, incident, view, fp);
      computed++;
    }
    const scope = await domain.scopeSummary(ws, incident, opts.asker);
    if (!scope.reused) computed++;
    opts.progress?.(n + 1, open.length);
  }
  return { incidents: open.length, computed };
}
