import {
  type Candidate,
  dayStartMs,
  type EntityKindName,
  type Evidence,
  type Figures,
  gatherEvidence,
  HOUR_MS,
  hourPoints,
  localDay,
  type OwnFigures,
  ownFigures,
  type PeerFigures,
  peerFigures,
  prepareBaselines,
  ratioScore,
  relatedOf,
  round,
  STAFF,
  SUBJECTS,
  showFigures,
  siteTide,
  sqlPerEntity,
  staffGroups,
  stopwatch,
} from '../baselines/index.ts';
import type { DetectContext, Detector, EntityType, Finding, WindowRange } from '../detector.ts';
import { isoTime, numParam, sqlTime } from '../sql.ts';

/**
 * Fan-out: one entity touching far more distinct people than its own history and its peers.
 *
 * Entities: staff accounts and the people behind them (peers: department/role in a country),
 * services (only against themselves: they read everyone by design), and for customer-side traffic
 * the address, /24 subnet, ASN and user agent (peers: the network class — mobile carrier NAT,
 * broadband, hosting, private). Customer accounts are not judged (a customer reading its own data
 * is normal) and neither are signing keys (one customer key signs for millions: unissued-token
 * watches keys).
 *
 * Three spans: every window (exact distinct subjects, one grouped scan of the range's events with
 * a floor in HAVING), and at each full hour the last hour and the day so far (site time zone),
 * from the hourly rollups. Windows and hours are compared with busiest hours of previous days,
 * the day so far with whole previous days. All baselines come from days before the judged one;
 * every threshold is multiplied by the site-wide tide, so a sale day lifts everyone together.
 */

type Span = 'window' | 'hour' | 'day';

interface Observed {
  type: string;
  id: string;
  klass: string;
  end: number;
  span: Span;
  value: number;
  /** Distinct addresses (user agents in one window; 0 where not counted). */
  ips: number;
}

interface Verdict {
  o: Observed;
  threshold: number;
  basis: string;
  cold: boolean;
  own?: OwnFigures;
  peers?: { group: string; figures: Figures };
  tide: number;
}

const TYPES: EntityKindName[] = ['actor', 'person', 'ip', 'subnet', 'asn', 'user_agent'];

export const fanout: Detector = {
  meta: {
    id: 'fan-out',
    title: 'One entity touching far more people than its history and peers',
    description:
      'Counts distinct people (customers and address-book recipients; for logins, the accounts tried) touched per staff account, person, service, and — for customer-side traffic — per address, /24 subnet, ASN and user agent, in every window, in the last hour and in the day so far, and compares them with the entity’s own previous days and its peer group (role for staff, network class for addresses). A forged-token crawler shows here per address even when every account looks normal; an insider shows per person.',
    false_positives: [
      'Carrier NAT addresses serve thousands of customers: established addresses are judged against their own history; newcomers against addresses of the same network class.',
      'Services (labels, notifications, fraud scoring, weekly exports) read everyone: judged only against themselves, with the busiest same weekday (weekly jobs) or their median day, whichever is higher.',
      'Sale days: every threshold is multiplied by the site-wide tide (today’s traffic over the median of the previous week at the same time).',
      'Staff at new addresses (travel, a new office, VPN): staff traffic is judged per account and person, never per address.',
      'Common browser and app user agents: judged only against their own history, and skipped when that history shows broad use (many addresses a day).',
      'New hires and new addresses: judged against their peers’ p99 times a margin; with no history at all (first days of data) nothing is judged.',
    ],
    severity: 'high',
    defaults: {
      history_days: 28,
      min_history_days: 3,
      min_subjects: 25,
      own_p99_factor: 2,
      median_factor: 4,
      peer_p99_factor: 2.5,
      peer_margin: 1.5,
      service_factor: 2,
      min_peer_members: 3,
      ua_broad_addresses: 20,
    },
    lookback_seconds: 36 * 86_400,
    revision: 3,
  },

  async evaluate(ctx: DetectContext, range: WindowRange): Promise<Finding[]> {
    const hist = numParam(ctx, 'history_days');
    const floor = numParam(ctx, 'min_subjects');
    const lap = stopwatch('fan-out');
    await prepareBaselines(ctx, range, hist);
    lap('refresh');
    const tz = ctx.settings.timezone;
    const w = range.windowSeconds * 1000;
    const win = await windowCounts(ctx, range, floor);
    lap('window scan');
    const observed = [...win, ...(await hourCounts(ctx, range, floor))];
    lap('hour points');
    if (observed.length === 0) return [];
    const days = [...new Set(observed.map((o) => localDay(o.end - 1, tz)))];
    const cands: Candidate[] = [];
    const seen = new Set<string>();
    for (const o of observed) {
      const c = { type: o.type, id: o.id, day: localDay(o.end - 1, tz) };
      const k = `${c.type}|${c.id}|${c.day}`;
      if (!seen.has(k)) cands.push(c);
      seen.add(k);
    }
    const staffIds = observed.filter((o) => o.type === 'actor' || o.type === 'person').map((o) => o.id);
    const [own, peers, tide, staff] = await Promise.all([
      ownFigures(ctx.engine, cands, hist),
      peerFigures(ctx.engine, days, hist),
      siteTide(ctx.engine, range.start.getTime(), range.end.getTime()),
      staffGroups(ctx.engine, staffIds),
    ]);
    lap('figures');
    const verdicts: Verdict[] = [];
    for (const o of observed) {
      const v = judge(ctx, o, own, peers, tide, staff);
      if (v) verdicts.push(v);
    }
    // One finding per entity and window: the span most over its threshold.
    const best = new Map<string, Verdict>();
    for (const v of verdicts) {
      const k = `${v.o.type}|${v.o.id}|${v.o.end}`;
      const b = best.get(k);
      if (!b || v.o.value / v.threshold > b.o.value / b.threshold) best.set(k, v);
    }
    const chosen = [...best.values()];
    const spanStart = (v: Verdict) =>
      v.o.span === 'window'
        ? v.o.end - w
        : v.o.span === 'hour'
          ? v.o.end - HOUR_MS
          : dayStartMs(localDay(v.o.end - 1, tz), tz);
    const ev = await gatherEvidence(
      ctx.engine,
      ctx.catalogSql.categories,
      chosen.map((v, i) => ({ fid: String(i), type: v.o.type, id: v.o.id, from: spanStart(v), to: v.o.end })),
    );
    lap(`evidence (${chosen.length})`);
    return chosen
      .map((v, i) => toFinding(v, ev.get(String(i)), w, staff.get(v.o.id)?.person))
      .sort(
        (a, b) =>
          a.window_end.localeCompare(b.window_end) ||
          a.entity.type.localeCompare(b.entity.type) ||
          a.entity.id.localeCompare(b.entity.id),
      );
  },
};

/** Exact distinct subjects per (window, entity), only where they reach the floor. */
async function windowCounts(ctx: DetectContext, range: WindowRange, floor: number): Promise<Observed[]> {
  const d = ctx.dialect;
  const ws = `toUnixTimestamp(${d.sqlWindowStart('e.time', range.windowSeconds)})`;
  // Most addresses are households reading a handful of records: an address whose events name fewer
  // subjects than the floor (duplicates included) cannot reach it, and a cheap sum per address
  // leaves the exact count to the few that can (carrier NAT, offices, crawlers).
  const reachable = `(${ws}, e.src_ip) IN (
      SELECT ${ws}, e.src_ip FROM events AS e
      WHERE e.time >= {from:DateTime64(3, 'UTC')} AND e.time < {to:DateTime64(3, 'UTC')}
        AND e.actor_uid NOT IN (SELECT principal_id FROM ${STAFF})
      GROUP BY 1, 2 HAVING sum(length(${SUBJECTS})) >= {floor:UInt32})`;
  const rows = await ctx.engine.query<{
    ws: number;
    et: string;
    eid: string;
    klass: string;
    n: number;
    ips: number;
  }>(
    `SELECT ws, entity_type AS et, entity_id AS eid, klass, n, ips FROM (
     ${sqlPerEntity(d, TYPES, {
       by: ['ws', ws],
       aggregates: (kind) => [
         ['n', `uniqExactArray(${SUBJECTS})`],
         // Addresses per agent tell a common browser from a tool (see judge); no other kind uses them.
         ['ips', kind.type === 'user_agent' ? 'uniqExact(e.src_ip)' : 'toUInt64(0)'],
       ],
       where: (kind) => (kind.type === 'ip' ? reachable : null),
       having: 'n >= {floor:UInt32}',
     })})`,
    { from: sqlTime(range.start), to: sqlTime(range.end), floor },
  );
  return rows.map((r) => ({
    type: r.et,
    id: r.eid,
    klass: r.klass,
    end: Number(r.ws) * 1000 + range.windowSeconds * 1000,
    span: 'window' as const,
    value: Number(r.n),
    ips: Number(r.ips),
  }));
}

/** Last hour (exact) and day so far (sketch) at each full hour, from the rollups. */
async function hourCounts(ctx: DetectContext, range: WindowRange, floor: number): Promise<Observed[]> {
  const tz = ctx.settings.timezone;
  const points = hourPoints(range.start.getTime(), range.end.getTime(), range.windowSeconds);
  if (points.length === 0) return [];
  const from = dayStartMs(localDay(points[0]! - 1, tz), tz);
  const to = points[points.length - 1]!;
  const rows = await ctx.engine.query<{
    et: string;
    eid: string;
    p: number;
    klass: string;
    dtd: number;
    last_hour: number;
    hour_events: number;
    ips: number;
  }>(
    `SELECT entity_type AS et, entity_id AS eid, P AS p, anyHeavy(klass) AS klass,
       uniqCombinedMerge(12)(sub_st) AS dtd, maxIf(subjects, toUnixTimestamp(hour) = P - 3600) AS last_hour,
       max(ips) AS ips,
       sumIf(subjects, toUnixTimestamp(hour) = P - 3600) AS hour_events
     FROM (
       SELECT hour, entity_type, entity_id, klass, subjects, ips, sub_st FROM baseline_hourly FINAL
       WHERE hour >= {from:DateTime('UTC')} AND hour < {to:DateTime('UTC')} AND entity_type IN {types:Array(String)}
         AND (entity_type, entity_id, toDate(hour, {tz:String})) IN (
           SELECT entity_type, entity_id, toDate(hour, {tz:String}) AS d FROM baseline_hourly FINAL
           WHERE hour >= {from:DateTime('UTC')} AND hour < {to:DateTime('UTC')} AND entity_type IN {types:Array(String)}
           GROUP BY entity_type, entity_id, d HAVING uniqCombinedMerge(12)(sub_st) >= {floor:UInt32})
     )
     ARRAY JOIN arrayFilter(x -> x > toUnixTimestamp(hour)
       AND toDate(toDateTime(x - 1, 'UTC'), {tz:String}) = toDate(hour, {tz:String}), {points:Array(UInt32)}) AS P
     GROUP BY et, eid, P
     HAVING dtd >= {floor:UInt32} OR last_hour >= {floor:UInt32}`,
    {
      from: sqlTime(new Date(from)).slice(0, 19),
      to: sqlTime(new Date(to)).slice(0, 19),
      types: TYPES,
      tz,
      floor,
      points: points.map((p) => p / 1000),
    },
  );
  const out: Observed[] = [];
  for (const r of rows) {
    const base = {
      type: r.et,
      id: r.eid,
      klass: r.klass,
      end: Number(r.p) * 1000,
      ips: Number(r.ips),
    };
    // The day so far is judged again only in hours that added to it, so a finished burst is not
    // reported every hour until midnight.
    if (Number(r.dtd) >= floor && Number(r.hour_events) > 0)
      out.push({ ...base, span: 'day', value: Number(r.dtd) });
    if (Number(r.last_hour) >= floor) out.push({ ...base, span: 'hour', value: Number(r.last_hour) });
  }
  return out;
}

function isService(o: Observed, staff: Map<string, { service: boolean }>): boolean {
  return o.type === 'actor' && (staff.get(o.id)?.service ?? false);
}

function judge(
  ctx: DetectContext,
  o: Observed,
  own: Map<string, OwnFigures>,
  peers: Map<string, PeerFigures>,
  tideOf: (point: number, span: number) => number,
  staff: Map<string, { group: string; person: string; service: boolean }>,
): Verdict | null {
  const tz = ctx.settings.timezone;
  const p = (n: string) => numParam(ctx, n);
  const floor = p('min_subjects');
  const minHist = p('min_history_days');
  const day = localDay(o.end - 1, tz);
  const mine = own.get(`${o.type}|${o.id}|${day}`);
  const pick = (f: { day: Figures; peak: Figures }) => (o.span === 'day' ? f.day : f.peak);
  const spanMs = o.span === 'day' ? o.end - dayStartMs(day, tz) : HOUR_MS;
  // Services work through backlogs (labels printed hours after a sale's orders): their tide is the
  // higher of the span's and the last day's.
  const tide = Math.max(tideOf(o.end, spanMs), isService(o, staff) ? tideOf(o.end, 86_400_000) : 1);
  const isStaff = o.type === 'actor' || o.type === 'person';
  const s = isStaff ? staff.get(o.id) : undefined;
  const group = isStaff ? (s?.group ?? '') : o.type === 'user_agent' ? 'ua' : `net:${o.klass || 'other'}`;
  const established = mine !== undefined && mine.day.days >= minHist;
  const at = (v: number, basis: string, cold: boolean, extra: Partial<Verdict> = {}): Verdict | null => {
    const threshold = Math.max(v, floor) * tide;
    return o.value > threshold
      ? { o, threshold, basis, cold, tide, ...(mine ? { own: mine } : {}), ...extra }
      : null;
  };
  if (s?.service || group.startsWith('service:')) {
    if (!established) return null;
    const f = pick(mine);
    const weekday = o.span === 'day' ? mine.weekdayDayMax : mine.weekdayPeakMax;
    const base = mine.day.days >= 8 ? Math.max(weekday, f.median) : f.max;
    return at(
      base * p('service_factor'),
      mine.day.days >= 8 ? 'own history (same weekday)' : 'own history (max)',
      false,
    );
  }
  if (o.type === 'user_agent') {
    const broad = p('ua_broad_addresses');
    if (!established || mine.ipsMedian >= broad || mine.actorsMedian >= broad || o.ips >= broad) return null;
    const f = pick(mine);
    return at(Math.max(f.p99 * p('own_p99_factor'), f.median * p('median_factor')), 'own history', false);
  }
  const g = peers.get(`${day}|${o.type}|${group}`);
  const groupOk = g !== undefined && (g.day.members ?? 0) >= p('min_peer_members') && g.day.days >= minHist;
  if (established) {
    const f = pick(mine);
    const ownCeil = Math.max(f.p99 * p('own_p99_factor'), f.median * p('median_factor'));
    const peerFloor = groupOk ? pick(g).p99 * p('peer_margin') : 0;
    return at(Math.max(ownCeil, peerFloor), peerFloor > ownCeil ? 'peers' : 'own history', false, {
      ...(groupOk ? { peers: { group, figures: pick(g) } } : {}),
    });
  }
  const all = peers.get(`${day}|${o.type}|all:${o.type}`);
  // A class with no history yet (say, the first hosting address) falls back to every entity of the
  // type: for addresses at its p90, a figure dominated by ordinary addresses, not by carrier NAT; for
  // staff and services at its p99, since roles differ widely and one role's routine (a marketing
  // export) is another's outlier.
  const ref = groupOk
    ? { group, f: pick(g) }
    : all && all.day.days >= minHist
      ? { group: `all:${o.type}`, f: pick(all) }
      : null;
  if (!ref) return null;
  return at(
    (groupOk || !ADDRESS_TYPES.has(o.type) ? ref.f.p99 : ref.f.p90) * p('peer_p99_factor'),
    groupOk ? 'peers' : `every ${o.type}`,
    true,
    {
      peers: { group: ref.group, figures: ref.f },
    },
  );
}

const ADDRESS_TYPES: ReadonlySet<string> = new Set(['ip', 'subnet', 'asn']);

const SPAN_TEXT: Record<Span, string> = {
  window: 'in one window',
  hour: 'in the last hour',
  day: 'today so far',
};

function toFinding(v: Verdict, ev: Evidence | undefined, w: number, person?: string): Finding {
  const { o } = v;
  const ratio = o.value / v.threshold;
  let score = ratioScore(ratio, 20);
  if (v.cold) score = Math.min(score, 70);
  const entity = { type: o.type as EntityType, id: o.id };
  const ownFig = v.own ? (o.span === 'day' ? v.own.day : v.own.peak) : undefined;
  return {
    detector: 'fan-out',
    entity,
    window_start: isoTime(new Date(o.end - w)),
    window_end: isoTime(new Date(o.end)),
    score,
    summary: `${o.type} ${o.id} touched ${o.value} distinct people ${SPAN_TEXT[o.span]}, ${round(ratio, 1)}× the ${Math.round(v.threshold)} expected from ${v.basis}`,
    evidence: {
      span: o.span,
      distinct_subjects: o.value,
      threshold: Math.round(v.threshold),
      ratio: round(ratio, 2),
      basis: v.basis,
      site_tide: round(v.tide, 2),
      baseline: {
        own: ownFig
          ? { ...showFigures(ownFig), measure: o.span === 'day' ? 'distinct per day' : 'busiest hour' }
          : null,
        peers: v.peers
          ? { group: v.peers.group, size: v.peers.figures.members ?? 0, ...showFigures(v.peers.figures) }
          : null,
      },
      events: ev?.events ?? 0,
      accounts: ev?.accounts_total ?? 0,
      addresses: ev?.ips ?? [],
      user_agents: ev?.user_agents ?? [],
      categories: ev?.categories ?? [],
      example_event_ids: ev?.example_event_ids ?? [],
      first_seen: ev?.first_seen ?? isoTime(new Date(o.end - w)),
      last_seen: ev?.last_seen ?? isoTime(new Date(o.end)),
    },
    related: relatedOf(entity, ev, person),
  };
}
