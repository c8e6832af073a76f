import {
  addDays,
  dayStartMs,
  gatherEvidence,
  localDay,
  ownFigures,
  peerFigures,
  prepareBaselines,
  ratioScore,
  relatedOf,
  round,
  showFigures,
  staffGroups,
} from '../baselines/index.ts';
import type { DetectContext, Detector, EntityType, Finding, WindowRange } from '../detector.ts';
import { isoTime, numParam } from '../sql.ts';

/**
 * Low and slow: distinct people touched over the seven days ending each local day, per staff
 * account and person, and for customer-side traffic per address, subnet, ASN and user agent,
 * against the peer group's seven-day p99 (and the entity's own seven-day history). Catches an
 * attacker at twenty requests an hour for weeks, whose windows and days stay under fan-out's
 * thresholds. Judged once a day, at the window that ends at local midnight, from the daily
 * rollups (seven daily sketches merged).
 */

export const lowAndSlow: Detector = {
  meta: {
    id: 'low-and-slow',
    title: 'Slow accumulation of people touched over a week',
    description:
      'Every local midnight, counts the distinct people each entity touched over the last seven days (staff accounts and people; addresses, subnets, ASNs and user agents of customer-side traffic) and compares it with its peer group’s seven-day p99 and its own previous weeks. A crawler kept under per-hour limits still piles up subjects week over week.',
    false_positives: [
      'Carrier NAT addresses and common user agents: established entities are judged against their own seven-day history; agents with broad use (many accounts a day) are skipped.',
      'Services: never judged here (they read everyone); fan-out judges them against themselves.',
      'A new entity in a class with no history (say, the first hosting address ever seen): compared with every entity of its type at p90, times a margin.',
    ],
    severity: 'medium',
    defaults: {
      history_days: 28,
      min_history_days: 7,
      min_subjects: 150,
      own_factor: 2,
      peer_factor: 3,
      peer_margin: 1.5,
      min_peer_members: 3,
      ua_broad_accounts: 20,
    },
    lookback_seconds: 36 * 86_400,
  },

  async evaluate(ctx: DetectContext, range: WindowRange): Promise<Finding[]> {
    const hist = numParam(ctx, 'history_days');
    const tz = ctx.settings.timezone;
    const p = (n: string) => numParam(ctx, n);
    // Points: window ends at local midnight inside (start, end]; each judges the day that ended.
    const days: string[] = [];
    for (let d = localDay(range.start.getTime(), tz); ; d = addDays(d, 1)) {
      const m = dayStartMs(addDays(d, 1), tz);
      if (m > range.end.getTime()) break;
      if (m > range.start.getTime() && m % (range.windowSeconds * 1000) === 0) days.push(d);
    }
    if (days.length === 0) return [];
    await prepareBaselines(ctx, range, hist);
    const rows = await ctx.engine.query<{
      d: string;
      et: string;
      eid: string;
      klass: string;
      grp: string;
      n7: number;
      actors: number;
    }>(
      `SELECT toString(day) AS d, entity_type AS et, entity_id AS eid, klass, grp, n7, actors FROM baseline_daily FINAL
       WHERE day IN (SELECT toDate(arrayJoin({days:Array(String)}))) AND n7 >= {floor:UInt32}
         AND entity_type IN ('actor', 'person', 'ip', 'subnet', 'asn', 'user_agent') AND NOT startsWith(grp, 'service:')`,
      { days, floor: p('min_subjects') },
    );
    if (rows.length === 0) return [];
    // Figures of days before the judged one: own = previous days, peers = as of the judged day.
    const [own, peers, staff] = await Promise.all([
      ownFigures(
        ctx.engine,
        rows.map((r) => ({ type: r.et, id: r.eid, day: r.d })),
        hist,
      ),
      peerFigures(ctx.engine, days, hist),
      staffGroups(
        ctx.engine,
        rows.filter((r) => r.et === 'actor' || r.et === 'person').map((r) => r.eid),
      ),
    ]);
    const flagged: {
      r: (typeof rows)[number];
      threshold: number;
      basis: string;
      cold: boolean;
      peer?: string;
      pf?: ReturnType<typeof showFigures>;
      of?: ReturnType<typeof showFigures>;
    }[] = [];
    for (const r of rows) {
      const mine = own.get(`${r.et}|${r.eid}|${r.d}`);
      const established = mine !== undefined && mine.day.days >= p('min_history_days');
      const g = peers.get(`${r.d}|${r.et}|${r.grp}`);
      const groupOk =
        g !== undefined && (g.n7.members ?? 0) >= p('min_peer_members') && g.n7.days >= p('min_history_days');
      const n7 = Number(r.n7);
      if (r.et === 'user_agent') {
        if (
          !established ||
          mine.actorsMedian >= p('ua_broad_accounts') ||
          Number(r.actors) >= p('ua_broad_accounts')
        )
          continue;
      }
      let threshold: number;
      let basis: string;
      let cold = false;
      if (established) {
        const ownCeil = mine.n7.p99 * p('own_factor');
        const peerFloor = groupOk ? g.n7.p99 * p('peer_margin') : 0;
        threshold = Math.max(ownCeil, peerFloor, p('min_subjects'));
        basis = peerFloor > ownCeil ? 'peers' : 'own history';
      } else {
        const all = peers.get(`${r.d}|${r.et}|all:${r.et}`);
        if (!groupOk && !(all && all.n7.days >= p('min_history_days'))) continue;
        threshold = Math.max((groupOk ? g.n7.p99 : all!.n7.p90) * p('peer_factor'), p('min_subjects'));
        basis = groupOk ? 'peers' : `every ${r.et}`;
        cold = true;
      }
      if (n7 <= threshold) continue;
      const pf = groupOk ? showFigures(g.n7) : undefined;
      flagged.push({
        r,
        threshold,
        basis,
        cold,
        peer: groupOk ? r.grp : `all:${r.et}`,
        ...(pf ? { pf } : {}),
        ...(mine ? { of: showFigures(mine.n7) } : {}),
      });
    }
    const ev = await gatherEvidence(
      ctx.engine,
      ctx.catalogSql.categories,
      flagged.map((f, i) => ({
        fid: String(i),
        type: f.r.et,
        id: f.r.eid,
        from: dayStartMs(f.r.d, tz),
        to: dayStartMs(addDays(f.r.d, 1), tz),
      })),
    );
    return flagged.map((f, i) => {
      const end = dayStartMs(addDays(f.r.d, 1), tz);
      const e = ev.get(String(i));
      const ratio = Number(f.r.n7) / f.threshold;
      const entity = { type: f.r.et as EntityType, id: f.r.eid };
      return {
        detector: 'low-and-slow',
        entity,
        window_start: isoTime(new Date(end - range.windowSeconds * 1000)),
        window_end: isoTime(new Date(end)),
        score: Math.min(f.cold ? 70 : 85, ratioScore(ratio, 25)),
        summary: `${f.r.et} ${f.r.eid} touched ${f.r.n7} distinct people over the seven days to ${f.r.d}, ${round(ratio, 1)}× the ${Math.round(f.threshold)} expected from ${f.basis}`,
        evidence: {
          distinct_subjects_7d: Number(f.r.n7),
          threshold: Math.round(f.threshold),
          ratio: round(ratio, 2),
          basis: f.basis,
          baseline: {
            own: f.of ? { ...f.of, measure: 'distinct over 7 days' } : null,
            peers: f.pf ? { group: f.peer, size: f.pf.members ?? 0, ...f.pf } : { group: f.peer },
          },
          events_last_day: e?.events ?? 0,
          categories: e?.categories ?? [],
          example_event_ids: e?.example_event_ids ?? [],
          first_seen: e?.first_seen ?? isoTime(new Date(end - 86_400_000)),
          last_seen: e?.last_seen ?? isoTime(new Date(end)),
        },
        related: relatedOf(entity, e, staff.get(f.r.eid)?.person || undefined),
      };
    });
  },
};
