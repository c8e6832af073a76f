import { createHash, randomBytes } from 'node:crypto';
import { type Catalog, catalogSql, currentCatalog, currentSettings } from '../sources/reference/index.ts';
import { type Engine, ledgerCovers, resetLedger, type Workspace } from '../store/index.ts';
import { attribute } from './attribute.ts';
import { currentUser, recordAudit } from './audit.ts';
import { Candidates } from './candidates.ts';
import { continuedWindow } from './continuation.ts';
import { materialiseExposures } from './exposures.ts';
import { dropForgedSetSql, forgedSetSql, sqlTime } from './sql.ts';
import { summarise } from './summary.ts';
import type { ScopeIncident, ScopeOptions, ScopeSummary } from './types.ts';

/** Every category the catalog names or any operation returns, sorted (the export's category order). */
function allCategories(catalog: Catalog): string[] {
  const all = new Set(catalog.categories.keys());
  for (const cats of catalog.operations.values()) for (const c of cats) all.add(c);
  for (const p of catalog.paths) for (const c of p.categories) all.add(c);
  return [...all].sort();
}

/**
 * Stores up to this many events are read directly by every scope query; larger ones get the
 * candidate table (a wide pass copying the forged calls and one for the rows at their addresses,
 * then small reads): on a small store the copy costs more than the few passes it saves.
 * (VIGIL_SCOPE_DIRECT_MAX overrides it.)
 */
const DIRECT_MAX_EVENTS = Number(process.env.VIGIL_SCOPE_DIRECT_MAX ?? 5_000_000);

/**
 * The never-issued tokens come from the token ledger (`src/store/ledger.ts`) when it accounts for
 * every stored event, else from grouping every event by token; VIGIL_SCOPE_LEDGER=0 forces the
 * grouping (to compare the two).
 */
const LEDGER_ALLOWED = process.env.VIGIL_SCOPE_LEDGER !== '0';

/** Bumped when the scoping logic changes, so stored computations of an older logic are not reused. */
const LOGIC_VERSION = 2;

/**
 * What a computation depends on: the incident, the catalog load, the stored events and the
 * options. Equal fingerprints mean a stored computation is still the answer.
 */
async function fingerprint(
  engine: Engine,
  incident: ScopeIncident,
  opts: ScopeOptions,
): Promise<{ fp: string; catalogSeq: number; events: number }> {
  const [state] = await engine.query<{ events: number; ingests: number; catalog: number; people: number }>(
    `SELECT (SELECT count() FROM events) AS events, (SELECT count() FROM ingests) AS ingests,
       (SELECT max(load_seq) FROM catalog_entries) AS catalog, (SELECT max(load_seq) FROM people) AS people`,
  );
  const entities = [...incident.entities].map((e) => `${e.type}:${e.id}`).sort();
  const fp = createHash('sha256')
    .update(
      JSON.stringify({
        LOGIC_VERSION,
        id: incident.id,
        first: incident.first_seen,
        last: incident.last_seen,
        entities,
        state,
        shared: opts.sharedMinActors ?? 1,
        rounds: opts.maxRounds ?? 8,
      }),
    )
    .digest('hex');
  return { fp, catalogSeq: state?.catalog ?? 0, events: Number(state?.events ?? 0) };
}

/** The newest stored computation of an incident (optionally only one with a given fingerprint). */
export async function latestScope(
  engine: Engine,
  incidentId: string,
  fp?: string,
): Promise<ScopeSummary | null> {
  const rows = await engine.query<{ summary: string }>(
    `SELECT summary FROM scope_runs WHERE incident = {incident:String} ${fp ? 'AND fingerprint = {fp:String}' : ''}
     ORDER BY computed_at DESC LIMIT 1`,
    fp ? { incident: incidentId, fp } : { incident: incidentId },
  );
  return rows[0] ? { ...(JSON.parse(rows[0].summary) as ScopeSummary), reused: true } : null;
}

function windowOf(incident: ScopeIncident): { start: string; end: string } {
  const start = Date.parse(incident.first_seen);
  const end = Date.parse(incident.last_seen);
  return {
    start: new Date(Number.isFinite(start) ? start : 0).toISOString(),
    end: new Date(Number.isFinite(end) ? end : Date.UTC(2100, 0, 1)).toISOString(),
  };
}

/**
 * Computes who an incident exposed, with what, when and how surely; keeps the result in the engine
 * (`scope_events`, `exposures`, `scope_runs`) and writes an audit entry. A stored computation for
 * the same inputs (incident, events, catalog, options) is returned instead unless `recompute`.
 */
export async function scopeIncident(
  ws: Workspace,
  incident: ScopeIncident,
  opts: ScopeOptions = {},
): Promise<ScopeSummary> {
  const engine = ws.engine;
  const started = Date.now();
  const { fp, catalogSeq, events } = await fingerprint(engine, incident, opts);
  if (!opts.recompute) {
    const stored = await latestScope(engine, incident.id, fp);
    if (stored) return stored;
  }
  const catalog = await currentCatalog(engine);
  const settings = await currentSettings(engine);
  const cid = `sc-${new Date(started)
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 14)}-${randomBytes(4).toString('hex')}`;
  const forgedTokens = `scope_forged_${cid.replace(/-/g, '_')}`;
  const continued = await continuedWindow(engine, incident, windowOf(incident), settings.timezone);
  const window = continued.window;
  const direct = events <= DIRECT_MAX_EVENTS;
  const source = new Candidates(engine, `scope_rows_${cid.replace(/-/g, '_')}`, forgedTokens, direct);
  const fromLedger = LEDGER_ALLOWED && (await ledgerCovers(engine));
  for (const statement of forgedSetSql(forgedTokens, fromLedger)) await engine.exec(statement);
  // A ledger short of the store is rebuilt from the grouping just done, for the next scope.
  if (!fromLedger && LEDGER_ALLOWED)
    await resetLedger(engine, `SELECT token_id FROM ${forgedTokens}_list`, events);
  let expansion: ScopeSummary['expansion'];
  try {
    expansion = await attribute({
      engine,
      cid,
      incident,
      catalog: catalogSql(catalog, engine.dialect),
      forgedTokens,
      source,
      ledger: fromLedger,
      timezone: settings.timezone,
      window,
      sharedMinActors: opts.sharedMinActors ?? 1,
      maxRounds: opts.maxRounds ?? 8,
    });
  } finally {
    await source.drop();
    for (const statement of dropForgedSetSql(forgedTokens)) await engine.exec(statement);
  }
  expansion = [...expansion, ...continued.steps];
  await materialiseExposures(engine, cid, incident.id, allCategories(catalog));
  const computed = await summarise(engine, cid, catalog, settings.timezone);
  const seconds = (Date.now() - started) / 1000;
  const summary: ScopeSummary = {
    incident: incident.id,
    computation_id: cid,
    computed_at: new Date(started).toISOString(),
    ...computed,
    expansion,
    window,
    seconds,
    reused: false,
  };
  const who = opts.who ?? currentUser();
  await engine.insert('scope_runs', [
    {
      computation_id: cid,
      incident: incident.id,
      computed_at: sqlTime(started),
      who,
      catalog_load_seq: catalogSeq,
      fingerprint: fp,
      subjects: summary.subjects,
      events: summary.events.attributed,
      seconds,
      summary: JSON.stringify(summary),
    },
  ]);
  await recordAudit(engine, {
    who,
    ...(opts.role ? { role: opts.role } : {}),
    action: 'scope.compute',
    incident: incident.id,
    rows: summary.subjects,
    target: `engine:exposures/${cid}`,
    detail: `${summary.subjects} subjects (${summary.by_confidence.confirmed} confirmed, ${summary.by_confidence.probable} probable) from ${summary.events.attributed} attributed events in ${seconds.toFixed(1)} s`,
  });
  return summary;
}
