import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Incident, listIncidents, runDetection } from '../../detect/index.ts';
import { scopeIncident } from '../../scope/index.ts';
import { ingestInputs } from '../../sources/index.ts';
import { type Engine, openWorkspace, type Workspace } from '../../store/index.ts';
import { affectedRows, readTruth, type Truth, type TruthScenario } from './truth.ts';

/** One scenario's score (spec/interface.md `vigil eval --json`, plus the figures behind it). */
export interface ScenarioScore {
  id: string;
  kind: string;
  detected: boolean;
  /**
   * From the scenario's start to the end of the first window in which a matched incident holds a
   * finding about one of the attacker's entities. An incident that matched only through findings
   * from before the attack (key hygiene on the key later abused, say) does not count as detecting it.
   */
  delay_seconds: number | null;
  /** `detected_at` of the earliest matched incident minus the start (the spec's plain definition). */
  incident_delay_seconds: number | null;
  scope_precision: number | null;
  scope_recall: number | null;
  /** The same over (subject, category) pairs. */
  pair_precision: number | null;
  pair_recall: number | null;
  incidents: string[];
  affected: number;
  scoped: number;
}

export interface EvalReport {
  scenarios: ScenarioScore[];
  false_positive_incidents: number;
  benign_days: number;
  incidents: number;
  false_positives: { id: string; title: string; severity: string }[];
  events: { read: number; stored: number; quarantined: number; duplicates: number };
  seconds: { ingest: number; detect: number; scope: number; total: number };
}

export type EvalStage = 'ingest' | 'detect' | 'scope' | 'score';

export interface EvalOptions {
  /** Keep the workspace here instead of a temporary one. */
  home?: string;
  onStage?: (stage: EvalStage, detail: string) => void;
}

const key = (e: { type: string; id: string }) => `${e.type}\u0000${e.id}`;

/** An incident matches a scenario when any of its entities is one of the scenario's attacker entities. */
export function matches(incident: Pick<Incident, 'entities'>, scenario: TruthScenario): boolean {
  const attacker = new Set(scenario.attacker.map(key));
  return incident.entities.some((e) => attacker.has(key(e)));
}

/**
 * Ingests a simulated folder into a fresh workspace, runs detection over all of it, scopes every
 * incident and scores both against `truth.json`. Subject-level comparison happens in the engine
 * (the truth is loaded into a table), so it scales with the run.
 */
export async function evaluate(dir: string, opts: EvalOptions = {}): Promise<EvalReport> {
  const truth = readTruth(dir);
  const temp = !opts.home;
  const home = opts.home ?? fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-eval-'));
  const ws = await openWorkspace(home, { command: 'eval' });
  const t0 = Date.now();
  try {
    opts.onStage?.('ingest', dir);
    const ref = (name: string) => (fs.existsSync(path.join(dir, name)) ? path.join(dir, name) : undefined);
    const { counts } = await ingestInputs(ws, [path.join(dir, 'events')], {
      reference: {
        people: ref('people.csv'),
        keys: ref('keys.csv'),
        services: ref('services.csv'),
        catalog: ref('catalog.yaml'),
        settings: ref('settings.yaml'),
      },
    });
    const t1 = Date.now();
    opts.onStage?.('detect', `${counts.stored} events`);
    await runDetection(ws, {});
    const t2 = Date.now();
    const incidents = await listIncidents(ws.engine);
    opts.onStage?.('scope', `${incidents.length} incidents`);
    const computations = new Map<string, string>();
    for (const incident of incidents) {
      const summary = await scopeIncident(ws, incident, { who: 'vigil eval' });
      computations.set(incident.id, summary.computation_id);
    }
    const t3 = Date.now();
    opts.onStage?.('score', `${truth.scenarios.length} scenarios`);
    const scenarios = await score(ws, dir, truth, incidents, computations);
    const matched = new Set(scenarios.flatMap((s) => s.incidents));
    const falsePositives = incidents.filter((i) => !matched.has(i.id));
    return {
      scenarios,
      false_positive_incidents: falsePositives.length,
      benign_days: Math.round((Date.parse(truth.end) - Date.parse(truth.start)) / 86_400_000),
      incidents: incidents.length,
      false_positives: falsePositives.map((i) => ({ id: i.id, title: i.title, severity: i.severity })),
      events: {
        read: counts.read,
        stored: counts.stored,
        quarantined: counts.quarantined,
        duplicates: counts.duplicates,
      },
      seconds: {
        ingest: (t1 - t0) / 1000,
        detect: (t2 - t1) / 1000,
        scope: (t3 - t2) / 1000,
        total: (Date.now() - t0) / 1000,
      },
    };
  } finally {
    await ws.close();
    if (temp) fs.rmSync(home, { recursive: true, force: true });
  }
}

/**
 * End (epoch ms) of the first window after the scenario's start in which one of the incidents holds
 * a finding about one of the attacker's entities (as the finding's entity or a related one).
 */
export async function firstAttackerFinding(
  e: Engine,
  incidentIds: readonly string[],
  s: TruthScenario,
): Promise<number | null> {
  if (incidentIds.length === 0) return null;
  const [first] = await e.query<{ at: string; n: number }>(
    `SELECT toString(min(f.window_end)) AS at, count() AS n
     FROM incident_findings AS i
     INNER JOIN (SELECT finding_id, argMax(window_end, version) AS window_end, argMax(entity_type, version) AS entity_type,
                   argMax(entity_id, version) AS entity_id, argMax(related_types, version) AS related_types,
                   argMax(related_ids, version) AS related_ids
                 FROM findings GROUP BY finding_id) AS f ON f.finding_id = i.finding_id
     WHERE i.incident_id IN {incidents:Array(String)}
       AND f.window_end > parseDateTime64BestEffort({start:String}, 3, 'UTC')
       AND (has({attacker:Array(String)}, concat(f.entity_type, ':', f.entity_id))
            OR hasAny({attacker:Array(String)}, arrayMap((t, x) -> concat(t, ':', x), f.related_types, f.related_ids)))`,
    {
      incidents: [...incidentIds],
      start: s.start,
      attacker: s.attacker.filter((a) => !/['\\]/.test(a.id)).map((a) => `${a.type}:${a.id}`),
    },
  );
  return first && first.n > 0 ? Date.parse(`${first.at.replace(' ', 'T')}Z`) : null;
}

/** For each incident that matches a scenario: seconds from the attack's start to its first finding about it. */
export async function evaluateDetection(
  ws: Workspace,
  truth: Truth,
  incidents: readonly Incident[],
): Promise<Map<string, number>> {
  const delays = new Map<string, number>();
  for (const s of truth.scenarios) {
    for (const incident of incidents.filter((i) => matches(i, s))) {
      const at = await firstAttackerFinding(ws.engine, [incident.id], s);
      if (at !== null) delays.set(incident.id, (at - Date.parse(s.start)) / 1000);
    }
  }
  return delays;
}

const ratio = (num: number, den: number) => (den === 0 ? null : num / den);

async function score(
  ws: Workspace,
  dir: string,
  truth: Truth,
  incidents: Incident[],
  computations: Map<string, string>,
): Promise<ScenarioScore[]> {
  const e = ws.engine;
  await e.exec('DROP TABLE IF EXISTS eval_truth');
  await e.exec(
    'CREATE TABLE eval_truth (scenario String, subject_id String, categories Array(String)) ENGINE = Memory',
  );
  for (const s of truth.scenarios) {
    const rows = [...affectedRows(dir, s)];
    for (let i = 0; i < rows.length; i += 50_000) {
      await e.insertRaw('eval_truth', 'JSONEachRow', Buffer.from(rows.slice(i, i + 50_000).join('\n')));
    }
  }
  const out: ScenarioScore[] = [];
  for (const s of truth.scenarios) {
    const hit = incidents.filter((i) => matches(i, s));
    const start = Date.parse(s.start);
    const delays = hit.map((i) => (Date.parse(i.detected_at) - start) / 1000);
    const firstFinding = await firstAttackerFinding(
      e,
      hit.map((i) => i.id),
      s,
    );
    const cids = hit.map((i) => computations.get(i.id)).filter((c): c is string => c !== undefined);
    // Subjects and (subject, category) pairs: scoped (union over the matched incidents) vs truth.
    const [m] = await e.query<{
      affected: number;
      scoped: number;
      both: number;
      truth_pairs: number;
      scoped_pairs: number;
      both_pairs: number;
    }>(
      `WITH
         truth AS (SELECT subject_id, categories FROM eval_truth WHERE scenario = {scenario:String}),
         scoped AS (SELECT subject_id, groupUniqArrayArray(categories) AS categories FROM exposures
                    WHERE computation_id IN {cids:Array(String)} GROUP BY subject_id),
         truth_pairs AS (SELECT DISTINCT subject_id, arrayJoin(categories) AS category FROM truth),
         scoped_pairs AS (SELECT DISTINCT subject_id, arrayJoin(categories) AS category FROM scoped)
       SELECT
         (SELECT uniqExact(subject_id) FROM truth) AS affected,
         (SELECT count() FROM scoped) AS scoped,
         (SELECT count() FROM scoped WHERE subject_id IN (SELECT subject_id FROM truth)) AS both,
         (SELECT count() FROM truth_pairs) AS truth_pairs,
         (SELECT count() FROM scoped_pairs) AS scoped_pairs,
         (SELECT count() FROM scoped_pairs WHERE (subject_id, category) IN (SELECT subject_id, category FROM truth_pairs)) AS both_pairs`,
      { scenario: s.id, cids: cids.length > 0 ? cids : [''] },
    );
    const detected = firstFinding !== null;
    out.push({
      id: s.id,
      kind: s.kind,
      detected,
      delay_seconds: firstFinding === null ? null : (firstFinding - start) / 1000,
      incident_delay_seconds: hit.length > 0 ? Math.min(...delays) : null,
      scope_precision: detected ? ratio(m!.both, m!.scoped) : null,
      scope_recall: detected ? ratio(m!.both, m!.affected) : null,
      pair_precision: detected ? ratio(m!.both_pairs, m!.scoped_pairs) : null,
      pair_recall: detected ? ratio(m!.both_pairs, m!.truth_pairs) : null,
      incidents: hit.map((i) => i.id),
      affected: m!.affected,
      scoped: m!.scoped,
    });
  }
  await e.exec('DROP TABLE IF EXISTS eval_truth');
  return out;
}
