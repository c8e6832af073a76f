import type { AttributionContext } from './attribute.ts';
import { type Evidence, emptyEvidence } from './evidence.ts';
import { SqlParams, sqlForged, sqlIp } from './sql.ts';
import type { ExpansionStep } from './types.ts';

/**
 * Network classes whose addresses many people share: carrier NAT. ('private' is special-purpose
 * space, one host as often as an office NAT, so it is judged by its traffic like the rest.)
 */
export const SHARED_CLASSES = ['mobile'];

const DAY_MS = 86_400_000;

/** Where the history used to judge a seed ends: a day before the incident window, so the attack's own start does not count. */
function historyEnd(c: AttributionContext): string {
  return new Date(Date.parse(c.window.start) - DAY_MS).toISOString();
}

interface Judged {
  exclusive: string[];
  /** Exclusive addresses at which the login service issued tokens. */
  issuing: string[];
  /** Events at the exclusive ones that `covered` (when given) does not already attribute. */
  uncovered: number;
  shared: string[];
  steps: ExpansionStep[];
}

/**
 * Addresses (or subnets, user agents) judged by the traffic other than the attacker's on them.
 * Seeds, named by the incident before anything is attributed, are judged by their history (a day
 * and more before the incident window, forged tokens excluded): an address nobody used before is
 * the attacker's. Addresses found through attributed events are judged by all their other
 * successful traffic: any account other than the attacker's events makes them shared. (Forged
 * calls are not legitimate traffic anyway, so only the attributed calls that are not forged need
 * excluding by id: a set of a few ids instead of every attributed event's.)
 */
export async function classifyAddresses(
  c: AttributionContext,
  ids: string[],
  origin: 'seed' | 'found',
  kind: 'ip' | 'subnet' | 'user_agent' = 'ip',
  covered?: (p: SqlParams) => string,
): Promise<Judged> {
  // An address seen with a carrier class while filling the table is shared whatever its traffic: it is
  // judged by its class, without holding (or reading) the rows of everyone behind it.
  const known = new Map<string, string>();
  if (kind === 'ip')
    for (const id of ids) {
      const cls = c.source.netClass.get(id);
      if (cls !== undefined && SHARED_CLASSES.includes(cls)) known.set(id, cls);
    }
  const rows = await judgeByTraffic(
    c,
    ids.filter((id) => !known.has(id)),
    origin,
    kind,
    covered,
  );
  for (const [id, cls] of known)
    rows.push({ id, net_class: cls, others: 0, events: 0, issued: 0, uncovered: 0 });
  const byId = new Map(rows.map((r) => [r.id, r]));
  const out: Judged = { exclusive: [], issuing: [], uncovered: 0, shared: [], steps: [] };
  const noun = kind === 'ip' ? 'address' : kind === 'subnet' ? 'subnet' : 'user agent';
  for (const id of ids) {
    const r = byId.get(id) ?? { id, net_class: '', others: 0, events: 0, issued: 0, uncovered: 0 };
    const carrier = kind !== 'user_agent' && SHARED_CLASSES.includes(r.net_class);
    const shared = carrier || r.others >= c.sharedMinActors;
    const where = origin === 'seed' ? 'before the incident' : 'besides the attacker’s events';
    const reason = carrier
      ? `${noun} of network class ${r.net_class} (carrier NAT), shared by many people`
      : shared
        ? `${r.others} other account(s) used this ${noun} successfully ${where}`
        : `no other account used this ${noun} ${where}${r.net_class ? ` (network class ${r.net_class})` : ''}`;
    (shared ? out.shared : out.exclusive).push(id);
    if (!shared && kind === 'ip' && r.issued > 0) out.issuing.push(id);
    if (!shared) out.uncovered += r.uncovered;
    out.steps.push({
      round: 0,
      entity: { type: kind, id },
      origin,
      verdict: shared ? (origin === 'found' ? 'not-followed' : 'shared') : 'attacker-only',
      reason: shared
        ? `${reason}: not followed; it only qualifies accounts the attacker used${origin === 'seed' ? ' (or everything in the window when nothing else narrows it)' : ''}`
        : reason,
      events: 0,
    });
  }
  return out;
}

interface Traffic {
  id: string;
  net_class: string;
  others: number;
  events: number;
  issued: number;
  uncovered: number;
}

/** Per address (subnet, user agent): its class, its other accounts' successful traffic, issuances, uncovered events. */
async function judgeByTraffic(
  c: AttributionContext,
  ids: string[],
  origin: 'seed' | 'found',
  kind: 'ip' | 'subnet' | 'user_agent',
  covered?: (p: SqlParams) => string,
): Promise<Traffic[]> {
  const d = c.engine.dialect;
  if (ids.length === 0) return [];
  await c.source.ensure(
    kind === 'ip' ? { ips: ids } : kind === 'subnet' ? { subnets: ids } : { agents: ids },
  );
  const p = new SqlParams();
  const expr = kind === 'ip' ? sqlIp(d) : kind === 'subnet' ? d.sqlSubnet('src_ip') : 'user_agent';
  const filter =
    kind === 'ip'
      ? p.inList('src_ip', ids, 'toIPv6')
      : p.inList(kind === 'subnet' ? expr : 'user_agent', ids);
  let legit = `status_id = 1 AND NOT ${sqlForged(c.forgedTokens)}`;
  if (origin === 'seed')
    legit += ` AND time < parseDateTime64BestEffort(${p.bind(historyEnd(c), 'String')}, 3, 'UTC')`;
  else {
    // Usually none: then the test (and reading every event id at these addresses) is left out.
    const q = new SqlParams();
    const [attributed] = await c.engine.query<{ n: number }>(
      `SELECT count() AS n FROM scope_events WHERE computation_id = ${q.bind(c.cid, 'String')} AND NOT forged
         AND ${kind === 'ip' ? q.inList('src_ip', ids, 'toIPv6') : '1'}`,
      q.values,
    );
    if ((attributed?.n ?? 0) > 0)
      legit += ` AND event_id NOT IN (SELECT event_id FROM scope_events WHERE computation_id = ${p.bind(c.cid, 'String')} AND NOT forged AND ${kind === 'ip' ? p.inList('src_ip', ids, 'toIPv6') : '1'})`;
  }
  return c.engine.query<Traffic>(
    `SELECT ${expr} AS id, anyIf(net_class, net_class != '') AS net_class,
       ${d.sqlExactDistinct(`if(${legit}, actor_uid, NULL)`)} AS others, count() AS events,
       countIf(class_uid = 3002 AND activity_id = 3 AND token_id != '') AS issued,
       ${covered ? `countIf(NOT (${covered(p)}))` : '0'} AS uncovered
     FROM ${c.source.table} PREWHERE ${filter} GROUP BY id`,
    p.values,
  );
}

/** Judges each entity the incident names; returns what counts as attacker-only and what is shared. */
export async function classifySeeds(
  c: AttributionContext,
): Promise<{ exclusive: Partial<Evidence>; sharedOnly: Evidence; steps: ExpansionStep[] }> {
  const steps: ExpansionStep[] = [];
  const exclusive: Partial<Evidence> = {
    forgeryKeys: [],
    attackerTokens: [],
    departed: [],
    exclusiveIps: [],
    issuingIps: [],
    exclusiveSubnets: [],
    exclusiveAgents: [],
  };
  const shared = emptyEvidence();
  const of = (type: string) => [
    ...new Set(c.incident.entities.filter((e) => e.type === type).map((e) => e.id)),
  ];
  const step = (s: Omit<ExpansionStep, 'round' | 'origin' | 'events'>) =>
    steps.push({ ...s, round: 0, origin: 'seed', events: 0 });

  for (const key of of('key')) {
    exclusive.forgeryKeys?.push(key);
    step({
      entity: { type: 'key', id: key },
      verdict: 'forged-tokens',
      reason: 'calls with tokens this key signed that the login service never issued are the attacker’s',
    });
  }

  const tokens = of('token');
  if (tokens.length > 0) {
    await c.source.ensure({ tokens });
    const p = new SqlParams();
    const rows = await c.engine.query<{ token_id: string; issued: number }>(
      `SELECT token_id, countIf(class_uid = 3002 AND activity_id = 3) AS issued FROM ${c.source.table}
       WHERE ${p.inList('token_id', tokens)} GROUP BY token_id`,
      p.values,
    );
    const issued = new Set(rows.filter((r) => r.issued > 0).map((r) => r.token_id));
    for (const t of tokens) {
      const forged = !issued.has(t);
      (forged ? exclusive.attackerTokens : shared.sharedTokens)?.push(t);
      step({
        entity: { type: 'token', id: t },
        verdict: forged ? 'attacker-only' : 'shared',
        reason: forged
          ? 'the login service never issued this token'
          : 'the login service issued this token to a real session: its use in the window is probable',
      });
    }
  }

  // Accounts: a departed person's account after left_on is the attacker's; otherwise the account is shared.
  const actors = [...of('actor'), ...of('service')];
  const persons = of('person');
  const p = new SqlParams();
  const principals = await c.engine.query<{
    principal_id: string;
    person_id: string;
    left_on: string | null;
  }>(
    `SELECT principal_id, person_id, toString(left_on) AS left_on FROM principals_current
     WHERE ${p.inList('person_id', persons)} OR ${p.inList('principal_id', actors)}`,
    p.values,
  );
  const accounts = new Map<string, string | null>(actors.map((a) => [a, null]));
  for (const r of principals)
    accounts.set(r.principal_id, r.left_on && r.left_on !== '\\N' ? r.left_on : null);
  for (const [actor, leftOn] of accounts) {
    if (leftOn) {
      exclusive.departed?.push({ actor, leftOn });
      shared.sharedActors.push(actor);
      step({
        entity: { type: 'actor', id: actor },
        verdict: 'departed-account',
        reason: `its person left on ${leftOn}: use from that day on is the attacker’s; earlier use is the owner’s`,
      });
    } else {
      shared.sharedActors.push(actor);
      step({
        entity: { type: 'actor', id: actor },
        verdict: 'shared',
        reason: 'a real account, also used legitimately',
      });
    }
  }

  // A /24 is never the attacker's alone: cloud tenants and broadband neighbours share it, and a
  // second attacker two addresses away is another incident. Its addresses are judged one by one
  // (the incident names those its findings saw; expansion finds the rest through keys and tokens).
  for (const subnet of of('subnet')) {
    shared.sharedSubnets.push(subnet);
    step({
      entity: { type: 'subnet', id: subnet },
      verdict: 'shared',
      reason:
        'a /24 holds unrelated hosts (cloud tenants, neighbours): it only qualifies accounts the attacker used',
    });
  }

  for (const [kind, list, target] of [
    ['ip', of('ip'), 'Ips'],
    ['user_agent', of('user_agent'), 'Agents'],
  ] as const) {
    if (list.length === 0) continue;
    const judged = await classifyAddresses(c, list, 'seed', kind);
    exclusive[`exclusive${target}`]?.push(...judged.exclusive);
    exclusive.issuingIps?.push(...judged.issuing);
    shared[`shared${target}`].push(...judged.shared);
    steps.push(...judged.steps);
  }

  for (const asn of of('asn')) {
    const n = Number(asn.replace(/^AS/i, ''));
    if (!Number.isFinite(n)) continue;
    shared.sharedAsns.push(n);
    step({
      entity: { type: 'asn', id: asn },
      verdict: 'shared',
      reason: 'a network carries many people’s traffic: it only qualifies accounts the attacker used',
    });
  }
  return { exclusive, sharedOnly: shared, steps };
}
