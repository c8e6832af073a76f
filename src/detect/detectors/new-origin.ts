import {
  dayStartMs,
  gatherEvidence,
  HOUR_MS,
  hourPoints,
  localDay,
  ownFigures,
  prepareBaselines,
  relatedOf,
  round,
  staffGroups,
} from '../baselines/index.ts';
import type { DetectContext, Detector, EntityRef, Finding, WindowRange } from '../detector.ts';
import { isoTime, numParam, sqlTime } from '../sql.ts';

/**
 * New origin, judged at every full hour from the rollups:
 *
 * - a staff account (employee or service) used from a country or ASN it was not seen from in the
 *   previous `history_days`; services should never move, so they score high, and far higher from a
 *   hosting provider; an employee abroad on a consumer network (a traveller) scores low and alone
 *   raises no incident;
 * - a hosting-provider address (net_class `hosting`) serving several distinct customer accounts
 *   (logins tried included) since local midnight: credential stuffing and token replay run from
 *   rented servers, while a customer on a cloud VPN is one account.
 */

const DAYS = 86_400_000;

interface Origin {
  actor: string;
  country: string;
  asn: number;
  net_class: string;
  as_org: string;
  first: number;
  events: number;
  subjects: number;
  new_country: number;
  new_asn: number;
  hist_days: number;
}

export const newOrigin: Detector = {
  meta: {
    id: 'new-origin',
    title: 'Account from a new country or network; hosting address serving customers',
    description:
      'Flags a staff account (employee or service) first seen from a country or ASN absent from its previous weeks — scored by who moved (services never should), where to (hosting providers, foreign countries) and how much it read — and a hosting-provider address serving several distinct customer accounts in a day, the shape of credential stuffing and token replay from rented servers.',
    false_positives: [
      'Travellers: an employee abroad on a hotel or home network scores low (no incident on its own); hosting networks and bulk reads raise the score.',
      'New hires and new offices: accounts without `min_history_days` of history are not judged for new origins.',
      'Customers on cloud VPNs: one account per address is normal; only `min_accounts` or more distinct accounts on one hosting address in a day fire, and an address whose own history shows several accounts a day is judged against that.',
    ],
    severity: 'high',
    defaults: {
      history_days: 45,
      min_history_days: 2,
      min_accounts: 4,
      employee_score: 25,
      service_score: 55,
      hosting_bonus: 20,
      foreign_bonus: 10,
    },
    lookback_seconds: 46 * 86_400,
  },

  async evaluate(ctx: DetectContext, range: WindowRange): Promise<Finding[]> {
    const hist = numParam(ctx, 'history_days');
    await prepareBaselines(ctx, range, Math.min(hist, 36));
    const points = hourPoints(range.start.getTime(), range.end.getTime(), range.windowSeconds);
    if (points.length === 0) return [];
    const [staff, hosting] = await Promise.all([
      staffOrigins(ctx, points, hist),
      hostingAddresses(ctx, points),
    ]);
    return [...staff, ...hosting].sort(
      (a, b) => a.window_end.localeCompare(b.window_end) || a.entity.id.localeCompare(b.entity.id),
    );
  },
};

async function staffOrigins(ctx: DetectContext, points: number[], hist: number): Promise<Finding[]> {
  const a = points[0]! - HOUR_MS;
  const b = points[points.length - 1]!;
  const t = (ms: number) => sqlTime(new Date(ms)).slice(0, 19);
  // First hour of each (account, country) and (account, ASN) in history + range: new when in range.
  const origins = await firstOrigins(ctx, a, b, hist);
  if (origins.length === 0) return [];
  const p = (n: string) => numParam(ctx, n);
  const tz = ctx.settings.timezone;
  // Days each account was active before the hour it moved (history must exist to call it new).
  const days = await ctx.engine.query<{ actor: string; days: string[] }>(
    `SELECT actor_uid AS actor, groupUniqArray(toString(toDate(hour, {tz:String}))) AS days FROM baseline_origins FINAL
     WHERE hour >= {h:DateTime('UTC')} AND hour < {b:DateTime('UTC')} AND actor_uid IN {ids:Array(String)}
     GROUP BY actor_uid`,
    { tz, h: t(a - hist * DAYS), b: t(b), ids: [...new Set(origins.map((o) => o.actor))] },
  );
  const daysOf = new Map(days.map((r) => [r.actor, r.days]));
  const groups = await staffGroups(
    ctx.engine,
    origins.map((o) => o.actor),
  );
  const home = new Set(ctx.settings.home_countries ?? []);
  const byKey = new Map<string, { o: Origin[]; end: number }>();
  for (const o of origins) {
    if (!Number(o.new_country) && !Number(o.new_asn)) continue;
    const end = Number(o.first) + HOUR_MS;
    const before = (daysOf.get(o.actor) ?? []).filter((d) => d < localDay(Number(o.first), tz)).length;
    if (before < p('min_history_days')) continue;
    o.hist_days = before;
    const k = `${o.actor}|${end}`;
    const e = byKey.get(k) ?? { o: [], end };
    e.o.push(o);
    byKey.set(k, e);
  }
  const list = [...byKey.values()];
  const w = 300_000;
  const ev = await gatherEvidence(
    ctx.engine,
    ctx.catalogSql.categories,
    list.map((x, i) => ({
      fid: String(i),
      type: 'actor',
      id: x.o[0]!.actor,
      from: x.end - HOUR_MS,
      to: x.end,
    })),
  );
  return list.map((x, i) => {
    const o = x.o.sort((m, n) => Number(n.subjects) - Number(m.subjects))[0]!;
    const g = groups.get(o.actor);
    const service = g?.service ?? false;
    const hostingHit = x.o.some((q) => q.net_class === 'hosting');
    const foreign = x.o.some((q) => Number(q.new_country) && q.country !== '' && !home.has(q.country));
    const subjects = x.o.reduce((s, q) => s + Number(q.subjects), 0);
    let score = service ? p('service_score') : p('employee_score');
    if (hostingHit) score += p('hosting_bonus');
    if (foreign) score += p('foreign_bonus');
    if (subjects >= 500) score += 20;
    else if (subjects >= 50) score += 10;
    score = Math.min(100, score);
    const e = ev.get(String(i));
    const entity: EntityRef = { type: 'actor', id: o.actor };
    const what = x.o
      .map(
        (q) =>
          `${Number(q.new_country) ? `country ${q.country || '?'}` : ''}${Number(q.new_country) && Number(q.new_asn) ? ', ' : ''}${Number(q.new_asn) ? `AS${q.asn} (${q.as_org || q.net_class})` : ''}`,
      )
      .join('; ');
    return {
      detector: 'new-origin',
      entity,
      window_start: isoTime(new Date(x.end - w)),
      window_end: isoTime(new Date(x.end)),
      score,
      summary: `${service ? 'service' : 'staff'} account ${o.actor} used for the first time in ${o.hist_days} days of history from ${what}, reading ${subjects} people in the hour`,
      evidence: {
        origins: x.o.map((q) => ({
          country: q.country,
          asn: Number(q.asn),
          as_org: q.as_org,
          net_class: q.net_class,
          new_country: Boolean(Number(q.new_country)),
          new_asn: Boolean(Number(q.new_asn)),
          events: Number(q.events),
          subjects: Number(q.subjects),
        })),
        service,
        baseline: { own: { days: o.hist_days, history_days: numParam(ctx, 'history_days') }, peers: null },
        events: e?.events ?? 0,
        categories: e?.categories ?? [],
        example_event_ids: e?.example_event_ids ?? [],
        first_seen: e?.first_seen ?? isoTime(new Date(x.end - HOUR_MS)),
        last_seen: e?.last_seen ?? isoTime(new Date(x.end)),
      },
      related: [
        ...relatedOf(entity, e, g?.person || undefined),
        ...x.o.filter((q) => q.asn).map((q) => ({ type: 'asn' as const, id: `AS${q.asn}` })),
      ].slice(0, 12),
    };
  });
}

async function firstOrigins(ctx: DetectContext, a: number, b: number, hist: number): Promise<Origin[]> {
  const t = (ms: number) => sqlTime(new Date(ms)).slice(0, 19);
  return ctx.engine.query<Origin>(
    `SELECT o.actor_uid AS actor, o.country AS country, o.asn AS asn, o.net_class AS net_class, o.as_org AS as_org,
       toUnixTimestamp(o.hour) * 1000 AS first, o.events AS events, o.subjects AS subjects,
       o.hour = c.first_c AS new_country, o.hour = n.first_a AS new_asn, 0 AS hist_days
     FROM (SELECT * FROM baseline_origins FINAL WHERE hour >= {a:DateTime('UTC')} AND hour < {b:DateTime('UTC')}) AS o
     INNER JOIN (SELECT actor_uid, country, min(hour) AS first_c FROM baseline_origins FINAL
                 WHERE hour >= {h:DateTime('UTC')} AND hour < {b:DateTime('UTC')} GROUP BY actor_uid, country) AS c
       ON o.actor_uid = c.actor_uid AND o.country = c.country
     INNER JOIN (SELECT actor_uid, asn, min(hour) AS first_a FROM baseline_origins FINAL
                 WHERE hour >= {h:DateTime('UTC')} AND hour < {b:DateTime('UTC')} GROUP BY actor_uid, asn) AS n
       ON o.actor_uid = n.actor_uid AND o.asn = n.asn
     WHERE o.hour = c.first_c OR o.hour = n.first_a`,
    { h: t(a - hist * DAYS), a: t(a), b: t(b) },
  );
}

/** Hosting addresses serving several customer accounts since local midnight, at each full hour. */
async function hostingAddresses(ctx: DetectContext, points: number[]): Promise<Finding[]> {
  const tz = ctx.settings.timezone;
  const minAccounts = numParam(ctx, 'min_accounts');
  const from = dayStartMs(localDay(points[0]! - 1, tz), tz);
  const to = points[points.length - 1]!;
  const rows = await ctx.engine.query<{
    ip: string;
    p: number;
    accounts: number;
    subjects: number;
    events: number;
  }>(
    `SELECT entity_id AS ip, P AS p, uniqCombinedMerge(12)(act_st) AS accounts, uniqCombinedMerge(12)(sub_st) AS subjects,
       sum(events) AS events
     FROM (SELECT hour, entity_id, events, act_st, sub_st FROM baseline_hourly FINAL
           WHERE entity_type = 'ip' AND klass = 'hosting' AND hour >= {from:DateTime('UTC')} AND hour < {to:DateTime('UTC')})
     ARRAY JOIN arrayFilter(x -> x > toUnixTimestamp(hour)
       AND toDate(toDateTime(x - 1, 'UTC'), {tz:String}) = toDate(hour, {tz:String}), {points:Array(UInt32)}) AS P
     GROUP BY ip, P
     HAVING accounts >= {min:UInt32}`,
    {
      from: sqlTime(new Date(from)).slice(0, 19),
      to: sqlTime(new Date(to)).slice(0, 19),
      tz,
      points: points.map((x) => x / 1000),
      min: minAccounts,
    },
  );
  if (rows.length === 0) return [];
  const own = await ownFigures(
    ctx.engine,
    rows.map((r) => ({ type: 'ip', id: r.ip, day: localDay(Number(r.p) * 1000 - 1, tz) })),
    numParam(ctx, 'history_days'),
  );
  const judged = rows
    .map((r) => {
      const day = localDay(Number(r.p) * 1000 - 1, tz);
      const mine = own.get(`ip|${r.ip}|${day}`);
      const usual = mine ? mine.actorsMedian : 0;
      const threshold = Math.max(minAccounts, usual * 2);
      return { r, day, mine, threshold, end: Number(r.p) * 1000 };
    })
    .filter((x) => Number(x.r.accounts) >= x.threshold);
  const ev = await gatherEvidence(
    ctx.engine,
    ctx.catalogSql.categories,
    judged.map((x, i) => ({
      fid: String(i),
      type: 'ip',
      id: x.r.ip,
      from: dayStartMs(x.day, tz),
      to: x.end,
    })),
  );
  return judged.map((x, i) => {
    const e = ev.get(String(i));
    const accounts = Number(x.r.accounts);
    const score = Math.min(95, Math.round(50 + 15 * Math.log2(accounts / x.threshold)));
    const entity: EntityRef = { type: 'ip', id: x.r.ip };
    return {
      detector: 'new-origin',
      entity,
      window_start: isoTime(new Date(x.end - 300_000)),
      window_end: isoTime(new Date(x.end)),
      score,
      summary: `hosting address ${x.r.ip} served ${accounts} distinct customer accounts today (${Number(x.r.subjects)} people's records), where one account per address is normal`,
      evidence: {
        accounts,
        subjects: Number(x.r.subjects),
        events: Number(x.r.events),
        threshold: x.threshold,
        net_class: 'hosting',
        baseline: {
          own: x.mine ? { accounts_median: round(x.mine.actorsMedian), days: x.mine.day.days } : null,
          peers: { group: 'net:hosting', rule: `at least ${numParam(ctx, 'min_accounts')} accounts a day` },
        },
        example_accounts: e?.accounts ?? [],
        user_agents: e?.user_agents ?? [],
        categories: e?.categories ?? [],
        example_event_ids: e?.example_event_ids ?? [],
        first_seen: e?.first_seen ?? isoTime(new Date(dayStartMs(x.day, tz))),
        last_seen: e?.last_seen ?? isoTime(new Date(x.end)),
      },
      related: relatedOf(entity, e),
    };
  });
}
