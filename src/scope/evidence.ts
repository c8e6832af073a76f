import type { Dialect } from '../store/index.ts';
import { type SqlParams, sqlForged, sqlIp } from './sql.ts';

/**
 * What ties an event to the attacker. Attacker-only indicators make an event confirmed wherever
 * and whenever it happened; shared ones (used by legitimate traffic too) only make it probable,
 * inside the incident's window, and only as the rules in `probableSql` say.
 */
export interface Evidence {
  /** Keys whose never-issued tokens are the attacker's (the key itself also signs real tokens). */
  forgeryKeys: string[];
  exclusiveIps: string[];
  /** The exclusive addresses at which the login service issued tokens (those tokens are the attacker's too). */
  issuingIps: string[];
  exclusiveSubnets: string[];
  exclusiveAgents: string[];
  /** Tokens named by the incident that the login service never issued, or issued to an attacker-only address. */
  attackerTokens: string[];
  /** Accounts of people who left: use from `leftOn` (site-local day) on is the attacker's. */
  departed: { actor: string; leftOn: string }[];
  sharedIps: string[];
  sharedSubnets: string[];
  sharedAsns: number[];
  sharedAgents: string[];
  /** Accounts also used legitimately (a real employee's or customer's). */
  sharedActors: string[];
  sharedTokens: string[];
}

export function emptyEvidence(): Evidence {
  return {
    forgeryKeys: [],
    exclusiveIps: [],
    issuingIps: [],
    exclusiveSubnets: [],
    exclusiveAgents: [],
    attackerTokens: [],
    departed: [],
    sharedIps: [],
    sharedSubnets: [],
    sharedAsns: [],
    sharedAgents: [],
    sharedActors: [],
    sharedTokens: [],
  };
}

export interface LabelContext {
  d: Dialect;
  p: SqlParams;
  forgedTokens: string;
  timezone: string;
  /** The table of `events` rows the scope reads (all of those at the exclusive addresses among them). */
  source: string;
}

/** One way an event can be tied to the attacker: the condition and the label it then gets. */
export type Branch = readonly [cond: string, label: string];

/**
 * The attacker-only indicators an `events` row can carry, in the order its label names the first
 * it meets. Forged tokens come first: they are the strongest and most common tie.
 */
export function confirmedBranches(ev: Evidence, c: LabelContext): Branch[] {
  const { d, p } = c;
  const branches: Branch[] = [];
  if (ev.forgeryKeys.length > 0)
    // Cheap tests first: the key is LowCardinality, the token lookup hashes a string.
    branches.push([
      `class_uid = 6003 AND ${p.inList('key_id', ev.forgeryKeys)} AND ${sqlForged(c.forgedTokens)}`,
      `concat('forged token signed by ', key_id)`,
    ]);
  if (ev.attackerTokens.length > 0)
    branches.push([p.inList('token_id', ev.attackerTokens), `'attacker token'`]);
  if (ev.exclusiveIps.length > 0)
    branches.push([
      p.inList('src_ip', ev.exclusiveIps, 'toIPv6'),
      `concat('attacker-only address ', ${sqlIp(d)})`,
    ]);
  if (ev.issuingIps.length > 0)
    // Tokens the attacker obtained by logging in from an attacker-only address are the attacker's
    // wherever used. Only addresses where the login service issued any token can add one.
    branches.push([
      `token_id != '' AND token_id IN (SELECT token_id FROM ${c.source} WHERE class_uid = 3002 AND activity_id = 3 AND token_id != '' AND ${p.inList('src_ip', ev.issuingIps, 'toIPv6')})`,
      `'token issued to an attacker-only address'`,
    ]);
  if (ev.exclusiveSubnets.length > 0)
    branches.push([
      p.inList(d.sqlSubnet('src_ip'), ev.exclusiveSubnets),
      `concat('attacker-only subnet ', ${d.sqlSubnet('src_ip')})`,
    ]);
  if (ev.exclusiveAgents.length > 0)
    branches.push([p.inList('user_agent', ev.exclusiveAgents), `'attacker-only user agent'`]);
  for (const a of ev.departed)
    branches.push([
      `actor_uid = ${p.bind(a.actor, 'String')} AND toDate(time, ${p.bind(c.timezone, 'String')}) >= toDate(${p.bind(a.leftOn, 'String')})`,
      `concat('account of a departed person: ', actor_uid)`,
    ]);
  return branches;
}

/** A multiIf naming the first branch a row meets (every label is non-empty), or '' for none. */
export function labelSql(branches: readonly Branch[]): string {
  if (branches.length === 0) return "''";
  return `multiIf(${branches.flat().join(', ')}, '')`;
}

/**
 * True when a row meets any branch: the same rows as `labelSql(…) != ''`, but a plain boolean the
 * engine can evaluate first (PREWHERE) on the few columns it reads, so labels are only built for
 * the rows that match.
 */
export function anySql(branches: readonly Branch[]): string {
  if (branches.length === 0) return '0';
  return branches.map(([cond]) => `(${cond})`).join(' OR ');
}

/**
 * Why an event not confirmed is still probably the attacker's (or '' when it is not), inside the
 * incident window. `attackerActors` is a subquery over `scope_events` of the accounts the attacker
 * demonstrably used; it is narrowed to those used through the same shared address (or network).
 */
export function probableBranches(
  ev: Evidence,
  c: LabelContext,
  opts: { attackerActors: string; unsplitActors: string[]; anyConfirmed: boolean },
): Branch[] {
  const { d, p } = c;
  const branches: Branch[] = [];
  if (opts.unsplitActors.length > 0)
    branches.push([
      p.inList('actor_uid', opts.unsplitActors),
      `concat('account also used legitimately: ', actor_uid)`,
    ]);
  if (ev.sharedTokens.length > 0)
    branches.push([p.inList('token_id', ev.sharedTokens), `'token also used legitimately'`]);
  const network: [string, string, boolean][] = [];
  if (ev.sharedIps.length > 0)
    network.push([
      p.inList('src_ip', ev.sharedIps, 'toIPv6'),
      `concat('shared address ', ${sqlIp(d)})`,
      true,
    ]);
  if (ev.sharedSubnets.length > 0)
    network.push([
      p.inList(d.sqlSubnet('src_ip'), ev.sharedSubnets),
      `concat('shared subnet ', ${d.sqlSubnet('src_ip')})`,
      true,
    ]);
  if (ev.sharedAsns.length > 0)
    network.push([
      `asn IN (SELECT arrayJoin(${p.bind(JSON.stringify(ev.sharedAsns), 'String')}::Array(UInt32)))`,
      `concat('shared network AS', toString(asn))`,
      false,
    ]);
  if (ev.sharedAgents.length > 0)
    network.push([p.inList('user_agent', ev.sharedAgents), `'shared user agent'`, false]);
  // A shared address counts for an account the attacker is known to have used there (the same
  // victim on the same carrier NAT, with a token that cannot be shown to be forged). Not a whole
  // network or a user agent: the victim's own use from their usual carrier or app is the victim's.
  for (const [cond, label, isAddress] of network)
    if (isAddress)
      branches.push([
        `${cond} AND actor_uid IN (${opts.attackerActors} AND ${cond})`,
        `concat(${label}, ' + account the attacker used')`,
      ]);
  // With no attacker-only evidence at all nothing narrows a shared address down: all of it in the window.
  if (!opts.anyConfirmed)
    for (const [cond, label, isAddress] of network) if (isAddress) branches.push([cond, label]);
  return branches;
}
