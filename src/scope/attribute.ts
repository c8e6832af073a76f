import type { CatalogSql } from '../sources/reference/index.ts';
import { type Engine, recordedUsesSql } from '../store/index.ts';
import type { Atoms, Candidates } from './candidates.ts';
import { classifyAddresses, classifySeeds, SHARED_CLASSES } from './classify.ts';
import {
  anySql,
  confirmedBranches,
  type Evidence,
  type LabelContext,
  labelSql,
  probableBranches,
} from './evidence.ts';
import { EXPOSING, INSERT_SETTINGS, SqlParams, sqlForged, sqlIp } from './sql.ts';
import type { ExpansionStep, ScopeIncident } from './types.ts';

export interface AttributionContext {
  engine: Engine;
  cid: string;
  incident: ScopeIncident;
  catalog: CatalogSql;
  /** Set table of the tokens API calls carried that the login service never issued. */
  forgedTokens: string;
  /** The `events` rows the scope can look at; every query below reads it instead of `events`. */
  source: Candidates;
  /** The forged tokens came from the token ledger, which may also say where their calls came from. */
  ledger: boolean;
  timezone: string;
  window: { start: string; end: string };
  sharedMinActors: number;
  maxRounds: number;
}

/**
 * Columns of `scope_events` filled from the `events` rows that meet `match` and not `exclude`,
 * labelled by `label`. Both tests are PREWHERE: they read only their own few columns, and the wide
 * ones (subjects, user agent…) are read only for granules where a row is left: the attacker's events
 * are in nearly every granule, so a later round that adds little would otherwise read everything.
 */
function insertSql(
  c: AttributionContext,
  p: SqlParams,
  round: number,
  confidence: string,
  filter: { match: string; exclude: string },
  label: string,
): string {
  return `INSERT INTO scope_events (computation_id, event_id, time, class_uid, round, confidence, indicator, forged,
      exposing, operation, known, categories, actor_uid, token_id, key_id, src_ip, net_class, country, asn, as_org,
      user_agent, subject_ids, subject_types)
    SELECT ${p.bind(c.cid, 'String')}, event_id, time, class_uid, ${round}, '${confidence}', ${label},
      ${sqlForged(c.forgedTokens)}, ${EXPOSING}, ${c.catalog.operation}, ${c.catalog.known}, ${c.catalog.categories},
      actor_uid, token_id, key_id, src_ip, net_class, country, asn, as_org, user_agent, subject_ids, subject_types
    FROM ${c.source.table} PREWHERE (${filter.match})${filter.exclude === '0' ? '' : ` AND NOT (${filter.exclude})`}
    ${INSERT_SETTINGS}`;
}

/** How evidence becomes SQL for this computation, binding into `p`. */
function labelContext(c: AttributionContext, p: SqlParams): LabelContext {
  return {
    d: c.engine.dialect,
    p,
    forgedTokens: c.forgedTokens,
    timezone: c.timezone,
    source: c.source.table,
  };
}

function merge(a: Evidence, b: Partial<Evidence>): Evidence {
  const out = { ...a } as Record<string, unknown[]>;
  for (const [k, v] of Object.entries(b)) out[k] = [...(out[k] ?? []), ...(v as unknown[])];
  return out as unknown as Evidence;
}

/**
 * Finds every event attributable to the attacker and writes it to `scope_events`.
 *
 * Confirmed first, in rounds: each round adds the events of the attacker-only indicators found so
 * far that earlier rounds did not cover, then looks at what those events carry: a key that signed
 * one of their forged tokens (the same forged key from elsewhere is the same attacker) and the
 * addresses they came from (followed when no legitimate traffic shares them). It stops when a
 * round finds nothing new. Then one pass adds the probable events, inside the incident window.
 */
export async function attribute(c: AttributionContext): Promise<ExpansionStep[]> {
  await fillCandidates(c);
  const seeds = await classifySeeds(c);
  const steps: ExpansionStep[] = [...seeds.steps];
  let covered: Evidence = seeds.sharedOnly;
  let pending: Partial<Evidence> = seeds.exclusive;
  const seen = new Set<string>(c.incident.entities.map((e) => `${e.type}:${e.id}`));
  for (let round = 0; round < c.maxRounds; round++) {
    const next = merge(covered, pending);
    const p = new SqlParams();
    const lc = labelContext(c, p);
    const newBranches = confirmedBranches(merge(emptyLike(covered), pending), lc);
    if (newBranches.length === 0) break;
    await c.source.ensure(await atomsOf(c, pending));
    const filter = { match: anySql(newBranches), exclude: anySql(confirmedBranches(covered, lc)) };
    const label = labelSql(confirmedBranches(next, lc));
    await c.engine.exec(insertSql(c, p, round, 'confirmed', filter, label), p.values);
    covered = next;
    const added = await c.engine.query<{ indicator: string; events: number }>(
      `SELECT indicator, count() AS events FROM scope_events
       WHERE computation_id = {cid:String} AND round = {round:UInt8} GROUP BY indicator`,
      { cid: c.cid, round },
    );
    creditSteps(steps, added);
    // What the new events lead to.
    const found = await c.engine.query<{ kind: string; id: string; events: number }>(
      `SELECT 'key' AS kind, key_id AS id, count() AS events FROM scope_events
         WHERE computation_id = {cid:String} AND round = {round:UInt8} AND forged AND key_id != '' GROUP BY key_id
       UNION ALL
       SELECT 'ip' AS kind, ${sqlIp(c.engine.dialect)} AS id, count() AS events FROM scope_events
         WHERE computation_id = {cid:String} AND round = {round:UInt8} GROUP BY src_ip`,
      { cid: c.cid, round },
    );
    const fresh = found.filter((f) => !seen.has(`${f.kind}:${f.id}`));
    for (const f of fresh) seen.add(`${f.kind}:${f.id}`);
    pending = {};
    const keys = fresh.filter((f) => f.kind === 'key');
    if (keys.length > 0) {
      pending.forgeryKeys = keys.map((k) => k.id);
      for (const k of keys)
        steps.push({
          round: round + 1,
          entity: { type: 'key', id: k.id },
          origin: 'found',
          verdict: 'forged-tokens',
          reason: `signed ${k.events} attributed calls with tokens the login service never issued: every never-issued token it signed is the same attacker's`,
          events: 0,
        });
    }
    const ips = fresh.filter((f) => f.kind === 'ip');
    if (ips.length > 0) {
      const judged = await classifyAddresses(
        c,
        ips.map((i) => i.id),
        'found',
        'ip',
        (p) => anySql(confirmedBranches(covered, { ...lc, p })),
      );
      pending.exclusiveIps = judged.exclusive;
      pending.issuingIps = judged.issuing;
      pending.sharedIps = judged.shared;
      for (const s of judged.steps) steps.push({ ...s, round: round + 1 });
      // The next round would only add the events at these addresses that nothing covers yet, and
      // there are none: skip its pass over the store (it would find nothing, and end the rounds).
      if (
        !pending.forgeryKeys &&
        judged.issuing.length === 0 &&
        judged.uncovered === 0 &&
        round + 1 < c.maxRounds
      ) {
        covered = merge(covered, pending);
        pending = {};
        break;
      }
    }
    if (!pending.forgeryKeys && !pending.exclusiveIps?.length) break;
  }
  // Shared addresses found on the way only qualify events, they are never followed themselves.
  const finalEvidence = merge(covered, { sharedIps: pending.sharedIps ?? [] });
  await addProbable(c, finalEvidence, steps);
  return steps;
}

/**
 * Copies into the candidate table every row the confirmed rounds can meet from the incident's
 * entities: in one wide pass over `events`, all forged calls (any key: a key is followed once it
 * signed an attributed forged call) and the rows of the seed tokens, accounts and user agents; then
 * every row at the seed addresses and at the addresses the held rows came from (the addresses a
 * round finds and classifies; at a carrier address only the rows of the accounts the attacker used
 * there). Those addresses are read from the table, not from a pass of their own over `events`,
 * and cost a second pass that tests the address first, unless the token ledger recorded where
 * the forged calls came from: then their rows are copied in the first pass (100 M events: ~0.4 s
 * more for it instead of ~1.9 s for the second), and the second pass runs only for what the
 * ledger did not know. What is still missing later costs one more pass.
 */
async function fillCandidates(c: AttributionContext): Promise<void> {
  if (c.source.direct) return;
  const of = (...types: string[]) => [
    ...new Set(c.incident.entities.filter((e) => types.includes(e.type)).map((e) => e.id)),
  ];
  const persons = of('person');
  const named = of('actor', 'service');
  const p = new SqlParams();
  const principals = await c.engine.query<{ principal_id: string; left_on: string | null }>(
    `SELECT principal_id, toString(left_on) AS left_on FROM principals_current
     WHERE ${p.inList('person_id', persons)} OR ${p.inList('principal_id', named)}`,
    p.values,
  );
  const actors = [...new Set([...named, ...principals.map((r) => r.principal_id)])];
  const departed = principals.filter((r) => r.left_on && r.left_on !== '\\N').map((r) => r.principal_id);
  const seeds: Atoms = { forgedCalls: true, tokens: of('token'), actors: departed, agents: of('user_agent') };
  const seedIps = of('ip');
  await c.source.ensure({ ...seeds, actors, ...(c.ledger ? await recordedAddresses(c) : {}) });
  const seen = await c.source.addressesOf(seeds, SHARED_CLASSES);
  // A seed address with no held row: its class from its own rows.
  await c.source.classify(seedIps);
  // A carrier address is shared whatever its traffic: only its rows of the accounts the attacker
  // used there can be attributed (probable), not the thousands of other people's.
  const carrier = (ip: string) => SHARED_CLASSES.includes(c.source.netClass.get(ip) ?? '');
  const ips = [...new Set([...seedIps, ...seen.map((a) => a.ip)])];
  await c.source.ensure({
    ips: ips.filter((ip) => !carrier(ip)),
    pairs: seen.filter((a) => carrier(a.ip) && a.actors.length > 0),
  });
}

/** Beyond these, addresses or accounts from the ledger are not worth an OR in the wide pass. */
const RECORDED_MAX_ADDRESSES = 256;
const RECORDED_MAX_ACCOUNTS = 200_000;

/**
 * Where the forged calls came from, as the token ledger recorded it, as the atoms the address
 * pass would copy: every row at an address of another class, the rows of the accounts seen there
 * at a carrier address. Nothing when the ledger knows too many (its list is then no help).
 */
async function recordedAddresses(c: AttributionContext): Promise<Pick<Atoms, 'ips' | 'pairs'>> {
  const rows = await c.engine.query<{ ip: string; cls: string; actors: string[] }>(
    recordedUsesSql(c.forgedTokens, c.engine.dialect),
  );
  const accounts = rows.reduce((n, r) => n + r.actors.length, 0);
  if (rows.length > RECORDED_MAX_ADDRESSES || accounts > RECORDED_MAX_ACCOUNTS) return {};
  const carrier = (r: { cls: string }) => SHARED_CLASSES.includes(r.cls);
  return {
    ips: rows.filter((r) => !carrier(r)).map((r) => r.ip),
    pairs: rows.filter((r) => carrier(r) && r.actors.length > 0).map((r) => ({ ip: r.ip, actors: r.actors })),
  };
}

/** The rows the confirmed branches of `ev` can meet, as candidate atoms. */
async function atomsOf(c: AttributionContext, ev: Partial<Evidence>): Promise<Atoms> {
  const atoms: Atoms = {
    forgedCalls: (ev.forgeryKeys?.length ?? 0) > 0,
    ips: [...(ev.exclusiveIps ?? []), ...(ev.issuingIps ?? [])],
    tokens: [...(ev.attackerTokens ?? [])],
    actors: (ev.departed ?? []).map((a) => a.actor),
    subnets: ev.exclusiveSubnets ?? [],
    agents: ev.exclusiveAgents ?? [],
  };
  if (ev.issuingIps?.length) {
    // Tokens issued at these addresses (all their rows are held once the addresses are).
    await c.source.ensure({ ips: ev.issuingIps });
    const p = new SqlParams();
    const rows = await c.engine.query<{ token_id: string }>(
      `SELECT DISTINCT token_id FROM ${c.source.table}
       WHERE class_uid = 3002 AND activity_id = 3 AND token_id != '' AND ${p.inList('src_ip', ev.issuingIps, 'toIPv6')}`,
      p.values,
    );
    atoms.tokens = [...(atoms.tokens ?? []), ...rows.map((r) => r.token_id)];
  }
  return atoms;
}

function emptyLike(e: Evidence): Evidence {
  const out = {} as Record<string, unknown[]>;
  for (const k of Object.keys(e)) out[k] = [];
  return out as unknown as Evidence;
}

/** Adds to each step the events its indicator brought in (labels name the entity). */
function creditSteps(steps: ExpansionStep[], added: { indicator: string; events: number }[]): void {
  for (const a of added) {
    const step = steps.find((s) => {
      if (s.events > 0 && s.verdict !== 'forged-tokens') return false;
      if (s.entity.type === 'key') return a.indicator === `forged token signed by ${s.entity.id}`;
      if (s.entity.type === 'ip') return a.indicator === `attacker-only address ${s.entity.id}`;
      if (s.entity.type === 'subnet') return a.indicator === `attacker-only subnet ${s.entity.id}`;
      if (s.entity.type === 'token') return a.indicator === 'attacker token' && s.verdict === 'attacker-only';
      if (s.entity.type === 'user_agent') return a.indicator === 'attacker-only user agent';
      if (s.verdict === 'departed-account') return a.indicator.startsWith('account of a departed person');
      return false;
    });
    if (step) step.events += a.events;
    else if (a.indicator === 'token issued to an attacker-only address')
      steps.push({
        round: 0,
        entity: { type: 'token', id: '(tokens issued at attacker-only addresses)' },
        origin: 'found',
        verdict: 'attacker-only',
        reason: 'tokens the login service issued to a session from an attacker-only address, used elsewhere',
        events: a.events,
      });
  }
}

async function addProbable(c: AttributionContext, ev: Evidence, steps: ExpansionStep[]): Promise<void> {
  const sp = new SqlParams();
  const [stats] = await c.engine.query<{ confirmed: number; actors: string[] }>(
    `SELECT count() AS confirmed, groupUniqArrayIf(actor_uid, ${sp.inList('actor_uid', ev.sharedActors)}) AS actors
     FROM scope_events WHERE computation_id = ${sp.bind(c.cid, 'String')}`,
    sp.values,
  );
  const used = new Set(stats?.actors ?? []);
  // An account the attacker used with an attacker-only indicator is split by that indicator; the
  // rest of its use is its owner's. Only accounts with no such split count whole (in the window).
  const unsplitActors = ev.sharedActors.filter((a) => !used.has(a));
  for (const s of steps)
    if (
      s.verdict === 'shared' &&
      (s.entity.type === 'actor' || s.entity.type === 'service' || s.entity.type === 'person')
    )
      s.reason +=
        unsplitActors.length > 0
          ? '; no attacker-only indicator separates its use, so its events in the incident window are probable'
          : '; its attacker use is separated by attacker-only indicators, the rest is taken as its owner’s';
  const p = new SqlParams();
  const lc = labelContext(c, p);
  const branches = probableBranches(ev, lc, {
    attackerActors: `SELECT actor_uid FROM scope_events WHERE computation_id = ${p.bind(c.cid, 'String')} AND confidence = 'confirmed'`,
    unsplitActors,
    anyConfirmed: (stats?.confirmed ?? 0) > 0,
  });
  if (branches.length === 0) return;
  // At a shared address only the accounts the attacker used there qualify (everything in the
  // window only when nothing was confirmed): only those rows need to be held.
  let pairs: { ip: string; actors: string[] }[] = [];
  if ((stats?.confirmed ?? 0) > 0 && ev.sharedIps.length > 0) {
    const q = new SqlParams();
    pairs = await c.engine.query<{ ip: string; actors: string[] }>(
      `SELECT ${sqlIp(c.engine.dialect)} AS ip, groupUniqArray(actor_uid) AS actors FROM scope_events
       WHERE computation_id = ${q.bind(c.cid, 'String')} AND confidence = 'confirmed'
         AND ${q.inList('src_ip', ev.sharedIps, 'toIPv6')} GROUP BY src_ip`,
      q.values,
    );
  }
  await c.source.ensure({
    actors: unsplitActors,
    tokens: ev.sharedTokens,
    ...((stats?.confirmed ?? 0) > 0 ? { pairs } : { ips: ev.sharedIps }),
    subnets: ev.sharedSubnets,
  });
  // A call with a forged token that none of this incident's keys explains is another forger's,
  // never this incident's by mere proximity.
  const match = `time >= parseDateTime64BestEffort(${p.bind(c.window.start, 'String')}, 3, 'UTC')
    AND time <= parseDateTime64BestEffort(${p.bind(c.window.end, 'String')}, 3, 'UTC')
    AND NOT ${sqlForged(c.forgedTokens)} AND (${anySql(branches)})`;
  const filter = { match, exclude: anySql(confirmedBranches(ev, lc)) };
  await c.engine.exec(insertSql(c, p, 255, 'probable', filter, labelSql(branches)), p.values);
}
