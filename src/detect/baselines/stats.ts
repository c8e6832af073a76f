import type { Engine } from '../../store/index.ts';
import { jsonList, sqlJsonList } from '../sql.ts';
import { nextVersion } from './refresh.ts';
import { addDays, HOUR_MS } from './time.ts';

/**
 * Figures a judgement compares with, and the judgement itself. Own figures come from the entity's
 * own previous days, peer figures from its peer group's (and, for a group without history, from
 * every entity of its type); all from days strictly before the judged one, so a replay and a live
 * run compare with the same numbers.
 */

export interface Figures {
  median: number;
  p90: number;
  p99: number;
  max: number;
  /** Days the figures come from (for peers: distinct days with any member). */
  days: number;
  /** Distinct members (peers). */
  members?: number;
}

export const NONE: Figures = { median: 0, p90: 0, p99: 0, max: 0, days: 0 };

export interface PeerFigures {
  day: Figures;
  peak: Figures;
  n7: Figures;
}

const fig = (q: number[] | undefined, max: number, days: number, members?: number): Figures => ({
  median: Number(q?.[0] ?? 0),
  p90: Number(q?.[1] ?? 0),
  p99: Number(q?.[2] ?? 0),
  max: Number(max),
  days: Number(days),
  ...(members !== undefined ? { members: Number(members) } : {}),
});

/**
 * Peer figures per group for each judged day, computed once per day boundary and kept in
 * `baseline_peers`; recomputed when the days they come from were merged again (late events).
 * Key: `${day}|${entity_type}|${group}`; `all:<type>` is every entity of the type.
 */
export async function peerFigures(
  engine: Engine,
  days: readonly string[],
  historyDays: number,
): Promise<Map<string, PeerFigures>> {
  const out = new Map<string, PeerFigures>();
  if (days.length === 0) return out;
  const sorted = [...days].sort();
  const lo = addDays(sorted[0]!, -historyDays);
  const hi = sorted[sorted.length - 1]!;
  const [inputs, have] = await Promise.all([
    engine.query<{ d: string; v: number }>(
      `SELECT toString(day) AS d, inputs_version AS v FROM baseline_days FINAL
       WHERE day >= toDate({lo:String}) AND day < toDate({hi:String})`,
      { lo, hi },
    ),
    engine.query<{ d: string; v: number }>(
      `SELECT toString(day) AS d, max(inputs_version) AS v FROM baseline_peers FINAL
       WHERE day IN (SELECT arrayJoin(${sqlJsonList('days')})) GROUP BY d`,
      { days: jsonList(sorted) },
    ),
  ]);
  const inputVersions = inputs.map((r) => ({ d: r.d, v: Number(r.v) }));
  const built = new Map(have.map((r) => [r.d, Number(r.v)]));
  for (const day of sorted) {
    const from = addDays(day, -historyDays);
    const v = Math.max(0, ...inputVersions.filter((r) => r.d >= from && r.d < day).map((r) => r.v));
    if (v === 0 || built.get(day) === v) continue;
    await engine.exec(
      `INSERT INTO baseline_peers (day, entity_type, grp, members, member_days, days, day_q, peak_q, n7_q, day_max, peak_max, inputs_version, version)
       SELECT toDate({day:String}), entity_type, g, uniqExact(entity_id), count(), uniqExact(day),
         arrayMap(x -> toFloat64(x), quantilesExact(0.5, 0.9, 0.99)(n_day)),
         arrayMap(x -> toFloat64(x), quantilesExact(0.5, 0.9, 0.99)(peak)),
         arrayMap(x -> toFloat64(x), quantilesExact(0.5, 0.9, 0.99)(n7)),
         max(n_day), max(peak), {inputs:UInt64}, {version:UInt64}
       FROM baseline_daily FINAL
       ARRAY JOIN [grp, concat('all:', entity_type)] AS g
       WHERE day >= toDate({from:String}) AND day < toDate({day:String}) AND entity_type != 'site'
       GROUP BY entity_type, g`,
      { day, from, inputs: v, version: nextVersion() },
    );
  }
  const rows = await engine.query<{
    d: string;
    et: string;
    grp: string;
    members: number;
    member_days: number;
    days: number;
    day_q: number[];
    peak_q: number[];
    n7_q: number[];
    day_max: number;
    peak_max: number;
  }>(
    `SELECT toString(day) AS d, entity_type AS et, grp, members, member_days, days, day_q, peak_q, n7_q, day_max, peak_max
     FROM baseline_peers FINAL WHERE day IN (SELECT arrayJoin(${sqlJsonList('days')}))`,
    { days: jsonList(sorted) },
  );
  for (const r of rows) {
    out.set(`${r.d}|${r.et}|${r.grp}`, {
      day: fig(r.day_q, r.day_max, r.days, r.members),
      peak: fig(r.peak_q, r.peak_max, r.days, r.members),
      n7: fig(r.n7_q, 0, r.days, r.members),
    });
  }
  return out;
}

export interface OwnFigures {
  group: string;
  day: Figures;
  peak: Figures;
  n7: Figures;
  /** Busiest day and hour on the same weekday as the judged day (weekly jobs). */
  weekdayDayMax: number;
  weekdayPeakMax: number;
  /** Median distinct accounts and addresses per day (how broadly an agent string is used). */
  actorsMedian: number;
  ipsMedian: number;
}

export interface Candidate {
  type: string;
  id: string;
  day: string;
}

/** Own history of each candidate over the `historyDays` days before its judged day. */
export async function ownFigures(
  engine: Engine,
  candidates: readonly Candidate[],
  historyDays: number,
): Promise<Map<string, OwnFigures>> {
  const out = new Map<string, OwnFigures>();
  if (candidates.length === 0) return out;
  const days = candidates.map((c) => c.day).sort();
  const rows = await engine.query<{
    k: string;
    grp: string;
    n: number;
    dq: number[];
    dmax: number;
    pq: number[];
    pmax: number;
    wq: number[];
    wmax: number;
    wd_day: number;
    wd_peak: number;
    actors: number;
    ips: number;
  }>(
    `SELECT concat(c.1, '|', c.2, '|', c.3) AS k, any(d.grp) AS grp, count() AS n,
       quantilesExact(0.5, 0.9, 0.99)(d.n_day) AS dq, max(d.n_day) AS dmax,
       quantilesExact(0.5, 0.9, 0.99)(d.peak) AS pq, max(d.peak) AS pmax,
       quantilesExact(0.5, 0.9, 0.99)(d.n7) AS wq, max(d.n7) AS wmax,
       maxIf(d.n_day, toDayOfWeek(d.day) = toDayOfWeek(toDate(c.3))) AS wd_day,
       maxIf(d.peak, toDayOfWeek(d.day) = toDayOfWeek(toDate(c.3))) AS wd_peak,
       median(d.actors) AS actors, median(d.ips) AS ips
     FROM (SELECT arrayJoin(JSONExtract({cands:String}, 'Array(Tuple(String, String, String))')) AS c) AS cc
     INNER JOIN (
       SELECT entity_type, entity_id, day, grp, n_day, peak, n7, actors, ips FROM baseline_daily FINAL
       WHERE concat(entity_type, '|', entity_id) IN (SELECT arrayJoin(${sqlJsonList('keys')}))
         AND day >= toDate({lo:String}) AND day < toDate({hi:String})
     ) AS d ON d.entity_type = cc.c.1 AND d.entity_id = cc.c.2
     WHERE d.day < toDate(cc.c.3) AND d.day >= toDate(cc.c.3) - {hist:UInt32}
     GROUP BY c`,
    {
      cands: JSON.stringify(candidates.map((c) => [c.type, c.id, c.day])),
      keys: jsonList([...new Set(candidates.map((c) => `${c.type}|${c.id}`))]),
      lo: addDays(days[0]!, -historyDays),
      hi: days[days.length - 1]!,
      hist: historyDays,
    },
  );
  for (const r of rows) {
    out.set(r.k, {
      group: r.grp,
      day: fig(r.dq, r.dmax, r.n),
      peak: fig(r.pq, r.pmax, r.n),
      n7: fig(r.wq, r.wmax, r.n),
      weekdayDayMax: Number(r.wd_day),
      weekdayPeakMax: Number(r.wd_peak),
      actorsMedian: Number(r.actors),
      ipsMedian: Number(r.ips),
    });
  }
  return out;
}

/**
 * How far above normal the whole site is: events in the span ending at a point, over the median
 * of the same span on the previous seven days; never below 1. A sale lifts every customer-driven
 * entity together, and thresholds are multiplied by it, so a tide is not one entity's fan-out.
 */
export async function siteTide(
  engine: Engine,
  fromMs: number,
  toMs: number,
): Promise<(pointMs: number, spanMs: number) => number> {
  const rows = await engine.query<{ h: number; ev: number }>(
    `SELECT toUnixTimestamp(hour) * 1000 AS h, events AS ev FROM baseline_hourly FINAL
     WHERE entity_type = 'site' AND hour >= {a:DateTime('UTC')} AND hour < {b:DateTime('UTC')}`,
    {
      a: new Date(fromMs - 8 * 86_400_000).toISOString().slice(0, 19).replace('T', ' '),
      b: new Date(toMs).toISOString().slice(0, 19).replace('T', ' '),
    },
  );
  const byHour = new Map(rows.map((r) => [Number(r.h), Number(r.ev)]));
  const sum = (a: number, b: number) => {
    let s = 0;
    for (let t = Math.floor(a / HOUR_MS) * HOUR_MS; t < b; t += HOUR_MS) s += byHour.get(t) ?? 0;
    return s;
  };
  return (point, span) => {
    const now = sum(point - span, point);
    const past: number[] = [];
    for (let d = 1; d <= 7; d++) {
      const p = point - d * 86_400_000;
      const v = sum(p - span, p);
      if (v > 0) past.push(v);
    }
    if (past.length < 3) return 1;
    const m = median(past);
    return m > 0 ? Math.max(1, now / m) : 1;
  };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Score 0–100 from how far over its threshold a value is: with base 30, 1× ≈ 30, 2× ≈ 55, 4× ≈ 80, capped. */
export function ratioScore(ratio: number, base = 30, cap = 95): number {
  if (!(ratio > 1)) return 0;
  return Math.min(cap, Math.round(base + 25 * Math.log2(ratio)));
}

export function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Figures as a finding's evidence shows them. */
export function showFigures(f: Figures): Record<string, number> {
  return {
    median: round(f.median),
    p99: round(f.p99),
    max: round(f.max),
    days: f.days,
    ...(f.members !== undefined ? { members: f.members } : {}),
  };
}
