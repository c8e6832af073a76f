import { DAY_MS, HOUR_MS, median, round } from '../baselines/index.ts';
import type { DetectContext, Detector, EntityRef, Finding, WindowRange } from '../detector.ts';
import { isoTime, numParam, sqlTime } from '../sql.ts';

/**
 * Credential stuffing: logins from one address failing across many accounts. Judged every hour
 * (at the window that ends on the hour) over the trailing `span_hours`, because a stuffing crawler
 * spread over dozens of rented addresses tries only a few accounts per address per window.
 *
 * The bar comes from the site's own failure rate: for each network class, the median of its daily
 * logon failure rates over the `history_days` before the judged day (a median, so yesterday's
 * attack does not raise today's bar). An address is flagged when it failed on at least
 * `min_accounts` distinct accounts and its failure ratio is both `rate_factor` times that baseline
 * and above `min_failure_ratio` (most of its tries fail: a carrier NAT address in front of
 * thousands of people mistypes passwords at the site's usual rate, not at 90 %).
 *
 * Addresses flagged at the same hour are one campaign: each finding lists the others as related,
 * so the incident stage groups the rented addresses (which share nothing else) into one incident.
 */

interface Row {
  p: string;
  ip: string;
  net_class: string;
  attempts: number;
  failed: number;
  failed_accounts: number;
  ok_accounts: number;
  first_seen: string;
  last_seen: string;
  examples: string[];
}

/** The UTC day a judge point belongs to (a point at midnight closes the day before). */
const judgedDay = (t: number) => new Date(t - 1).toISOString().slice(0, 10);

export const credentialStuffing: Detector = {
  meta: {
    id: 'credential-stuffing',
    title: 'Logins failing across many accounts',
    description:
      'Every hour, for each source address, counts logon attempts over the last day: how many distinct accounts failed and how many it got into. Leaked password lists replayed from rented servers fail on most accounts and succeed on a few; the few are account takeovers whose data is then read. Addresses flagged in the same hour are grouped as one campaign.',
    false_positives: [
      'Carrier NAT and office addresses in front of many people: they fail at the site’s usual rate; the bar is a multiple of that rate (per network class, median of recent days) and a majority-failure floor.',
      'A person who forgot their password: one account, far below the distinct-account floor.',
      'An outage of the login service fails everyone at once: every address rises together, but only addresses failing on many distinct accounts at a majority-failure rate are flagged; an outage shows as many flagged addresses at once, which the evidence’s baseline makes visible.',
      'Two unrelated campaigns in the same hour are grouped into one incident; the addresses are listed so an analyst can split them.',
    ],
    severity: 'medium',
    defaults: {
      span_hours: 24,
      history_days: 7,
      min_accounts: 20,
      rate_factor: 10,
      min_failure_ratio: 0.5,
      max_related: 50,
    },
    lookback_seconds: 9 * 86_400,
  },

  async evaluate(ctx: DetectContext, range: WindowRange): Promise<Finding[]> {
    const p = (n: string) => numParam(ctx, n);
    // Judge points: window ends on the hour within (start, end].
    const points: number[] = [];
    const w = range.windowSeconds * 1000;
    for (
      let t = Math.ceil((range.start.getTime() + 1) / HOUR_MS) * HOUR_MS;
      t <= range.end.getTime();
      t += HOUR_MS
    )
      if (t % w === 0) points.push(t);
    if (points.length === 0) return [];
    const span = p('span_hours') * HOUR_MS;
    const from = points[0] - span;
    const to = points[points.length - 1];
    const rows = await ctx.engine.query<Row>(
      `WITH hourly AS (
         SELECT toStartOfHour(time) AS hr, src_ip, any(net_class) AS net_class, count() AS nattempts,
           countIf(status_id = 2) AS nfailed, uniqExactStateIf(actor_uid, status_id = 2) AS failed_accts,
           uniqExactStateIf(actor_uid, status_id = 1) AS ok_accts, min(time) AS first_t, max(time) AS last_t,
           arraySlice(arraySort(groupArrayIf(event_id, status_id = 2)), 1, 3) AS examples
         FROM events
         WHERE class_uid = 3002 AND activity_id = 1 AND time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')}
         GROUP BY hr, src_ip HAVING nfailed > 0
       ),
       flagged AS (
         SELECT pt, src_ip, any(net_class) AS net_class, sum(nattempts) AS attempts, sum(nfailed) AS failed,
           uniqExactMerge(failed_accts) AS failed_accounts, uniqExactMerge(ok_accts) AS ok_accounts,
           min(first_t) AS first_seen, max(last_t) AS last_seen, arraySlice(arraySort(groupArrayArray(examples)), 1, 3) AS examples
         FROM hourly ARRAY JOIN {points:Array(DateTime64(3, 'UTC'))} AS pt
         WHERE hr >= pt - toIntervalHour({spanHours:UInt32}) AND hr < pt
         GROUP BY pt, src_ip
         -- Still at it: a failure in the last hour (a finished campaign is not re-reported all day).
         HAVING failed_accounts >= {minAccounts:UInt32} AND maxIf(nfailed, hr = pt - toIntervalHour(1)) > 0
       )
       SELECT toString(pt) AS p, ${ctx.dialect.sqlIpToString('src_ip')} AS ip, toString(net_class) AS net_class,
         attempts, failed, failed_accounts, ok_accounts,
         toString(first_seen) AS first_seen, toString(last_seen) AS last_seen, examples
       FROM flagged ORDER BY p, failed DESC, ip`,
      {
        from: sqlTime(new Date(from)),
        to: sqlTime(new Date(to)),
        points: points.map((t) => sqlTime(new Date(t))),
        spanHours: p('span_hours'),
        minAccounts: p('min_accounts'),
      },
    );
    if (rows.length === 0) return [];
    const bars = await failureBaselines(ctx, points, p('history_days'));
    const byPoint = new Map<string, (Row & { ratio: number; bar: number; base: number })[]>();
    for (const r of rows) {
      const day = judgedDay(Date.parse(`${r.p.replace(' ', 'T')}Z`));
      const base = bars.get(`${day}|${r.net_class}`) ?? bars.get(`${day}|*`) ?? null;
      // No history yet: the majority floor alone, and only at twice the account floor.
      if (base === null && Number(r.failed_accounts) < 2 * p('min_accounts')) continue;
      const bar = Math.max(p('min_failure_ratio'), (base ?? 0) * p('rate_factor'));
      const ratio = Number(r.failed) / Number(r.attempts);
      if (ratio < bar) continue;
      const list = byPoint.get(r.p) ?? [];
      list.push({ ...r, ratio, bar, base: base ?? Number.NaN });
      byPoint.set(r.p, list);
    }
    const out: Finding[] = [];
    for (const [pt, list] of byPoint) {
      const end = new Date(`${pt.replace(' ', 'T')}Z`);
      const campaign: EntityRef[] = list.map((r) => ({ type: 'ip', id: r.ip }));
      for (const r of list) {
        const accounts = Number(r.failed_accounts);
        const others = campaign.filter((c) => c.id !== r.ip).slice(0, p('max_related'));
        out.push({
          detector: 'credential-stuffing',
          entity: { type: 'ip', id: r.ip },
          window_start: isoTime(new Date(end.getTime() - w)),
          window_end: isoTime(end),
          score: Math.min(
            90,
            // 45 at the floor, +25 per doubling, +15 once it got into an account.
            Math.round(45 + 25 * Math.log2(accounts / p('min_accounts'))) +
              (Number(r.ok_accounts) > 0 ? 15 : 0),
          ),
          summary: `address ${r.ip} failed to log in to ${accounts} accounts in ${p('span_hours')} h (${Math.round(r.ratio * 100)} % of ${r.attempts} tries) and got into ${r.ok_accounts}${list.length > 1 ? `; one of ${list.length} addresses doing so this hour` : ''}`,
          evidence: {
            span_hours: p('span_hours'),
            attempts: Number(r.attempts),
            failed: Number(r.failed),
            failed_accounts: accounts,
            accounts_logged_in: Number(r.ok_accounts),
            failure_ratio: round(r.ratio, 3),
            bar: round(r.bar, 3),
            baseline: {
              measure: 'logon failure rate, median of daily rates',
              group: r.net_class === '' ? 'all addresses' : `network class ${r.net_class}`,
              days: p('history_days'),
              rate: Number.isNaN(r.base) ? null : round(r.base, 4),
            },
            campaign_addresses: list.length,
            categories: [],
            example_event_ids: r.examples,
            first_seen: isoTime(r.first_seen),
            last_seen: isoTime(r.last_seen),
          },
          related: others,
        });
      }
    }
    return out;
  },
};

/**
 * Median daily logon failure rate per network class (and over all addresses, under class '*'),
 * over the `days` UTC days before each judged day. Keyed `day|class`.
 */
async function failureBaselines(
  ctx: DetectContext,
  points: number[],
  days: number,
): Promise<Map<string, number>> {
  const judged = [...new Set(points.map(judgedDay))];
  const first = Date.parse(`${judged[0]}T00:00:00Z`) - days * DAY_MS;
  const last = Date.parse(`${judged[judged.length - 1]}T00:00:00Z`);
  const rows = await ctx.engine.query<{ d: string; c: string; attempts: number; failed: number }>(
    `SELECT toString(toDate(time)) AS d, toString(net_class) AS c, count() AS attempts, countIf(status_id = 2) AS failed
     FROM events
     WHERE class_uid = 3002 AND activity_id = 1 AND time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')}
     GROUP BY d, c`,
    { from: sqlTime(new Date(first)), to: sqlTime(new Date(last)) },
  );
  const daily = new Map<string, { attempts: number; failed: number }>();
  for (const r of rows) {
    daily.set(`${r.d}|${r.c}`, { attempts: Number(r.attempts), failed: Number(r.failed) });
    const all = daily.get(`${r.d}|*`) ?? { attempts: 0, failed: 0 };
    daily.set(`${r.d}|*`, {
      attempts: all.attempts + Number(r.attempts),
      failed: all.failed + Number(r.failed),
    });
  }
  const classes = new Set([...daily.keys()].map((k) => k.split('|')[1] ?? ''));
  const out = new Map<string, number>();
  for (const day of judged) {
    const d0 = Date.parse(`${day}T00:00:00Z`);
    for (const c of classes) {
      const rates: number[] = [];
      for (let i = 1; i <= days; i++) {
        const v = daily.get(`${new Date(d0 - i * DAY_MS).toISOString().slice(0, 10)}|${c}`);
        if (v && v.attempts >= 20) rates.push(v.failed / v.attempts);
      }
      if (rates.length >= Math.min(3, days)) out.set(`${day}|${c}`, median(rates));
    }
  }
  return out;
}
