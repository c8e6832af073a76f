import {
  gatherEvidence,
  HOUR_MS,
  hourPoints,
  prepareBaselines,
  relatedOf,
  round,
  staffGroups,
} from '../baselines/index.ts';
import type { DetectContext, Detector, Finding, WindowRange } from '../detector.ts';
import { isoTime, numParam, sqlTime } from '../sql.ts';

/**
 * Off hours: a person (an employee, through any of their accounts) busy in an hour of the day
 * (site time zone) in which their own history and their peers (same department, role and
 * country) show next to no activity. Needs volume: a burst of reads, not one click at 23:00.
 * Judged at every full hour from the hourly rollups, against the previous `history_days` days.
 */

export const offHours: Detector = {
  meta: {
    id: 'off-hours',
    title: 'Employee busy at hours they and their peers never work',
    description:
      'Flags an employee who reads many people’s records in an hour of the day (site time zone) when their own history and their peers’ show almost no activity — the late-night lookups of an insider collecting data when nobody watches.',
    false_positives: [
      'One late click or a quick check: needs at least `min_events` events and `min_subjects` people in the hour.',
      'Shift workers and teams abroad: peers are the same role in the same country, and the person’s own history counts; an hour either of them uses regularly is not off hours.',
      'New hires: without `min_history_days` of their own history only a peer group with history can judge them, and the score is capped.',
    ],
    severity: 'medium',
    defaults: {
      history_days: 28,
      min_history_days: 5,
      min_events: 20,
      min_subjects: 10,
      max_share: 0.01,
    },
    lookback_seconds: 29 * 86_400,
  },

  async evaluate(ctx: DetectContext, range: WindowRange): Promise<Finding[]> {
    const hist = numParam(ctx, 'history_days');
    const p = (n: string) => numParam(ctx, n);
    const tz = ctx.settings.timezone;
    const points = hourPoints(range.start.getTime(), range.end.getTime(), range.windowSeconds);
    if (points.length === 0) return [];
    await prepareBaselines(ctx, range, hist);
    const t = (ms: number) => sqlTime(new Date(ms)).slice(0, 19);
    const busy = await ctx.engine.query<{ person: string; h: number; events: number; subjects: number }>(
      `SELECT entity_id AS person, toUnixTimestamp(hour) * 1000 AS h, events, subjects FROM baseline_hourly FINAL
       WHERE entity_type = 'person' AND hour >= {a:DateTime('UTC')} AND hour < {b:DateTime('UTC')}
         AND events >= {minEvents:UInt32} AND subjects >= {minSubjects:UInt32}`,
      {
        a: t(points[0]! - HOUR_MS),
        b: t(points[points.length - 1]!),
        minEvents: p('min_events'),
        minSubjects: p('min_subjects'),
      },
    );
    if (busy.length === 0) return [];
    const groups = await staffGroups(
      ctx.engine,
      busy.map((b) => b.person),
    );
    // Activity per local hour of day over the history before each busy hour: own and peers'.
    const profile = await ctx.engine.query<{
      person: string;
      h: number;
      own_at: number;
      own_all: number;
      own_days: number;
      grp_at: number;
      grp_all: number;
      members: number;
    }>(
      `WITH cand AS (SELECT arrayJoin(JSONExtract({cands:String}, 'Array(Tuple(String, Int64, String))')) AS c),
         roles AS (SELECT person_id, concat('role:', department, '/', role, '/', country) AS grp FROM people_current),
         hist AS (SELECT h.entity_id AS person, h.hour AS hour, h.events AS events, r.grp AS grp FROM baseline_hourly AS h FINAL
                  INNER JOIN roles AS r ON h.entity_id = r.person_id
                  WHERE h.entity_type = 'person' AND h.hour >= {from:DateTime('UTC')} AND h.hour < {to:DateTime('UTC')}
                    AND r.grp IN (SELECT c.3 FROM cand))
       SELECT c.1 AS person, c.2 AS h,
         sumIf(events, hist.person = c.1 AND toHour(hour, {tz:String}) = toHour(toDateTime(intDiv(c.2, 1000), 'UTC'), {tz:String})) AS own_at,
         sumIf(events, hist.person = c.1) AS own_all,
         uniqExactIf(toDate(hour, {tz:String}), hist.person = c.1) AS own_days,
         sumIf(events, hist.person != c.1 AND toHour(hour, {tz:String}) = toHour(toDateTime(intDiv(c.2, 1000), 'UTC'), {tz:String})) AS grp_at,
         sumIf(events, hist.person != c.1) AS grp_all,
         uniqExactIf(hist.person, hist.person != c.1) AS members
       FROM cand CROSS JOIN hist
       WHERE hist.grp = c.3 AND toUnixTimestamp(hist.hour) * 1000 >= c.2 - {histMs:Int64}
         AND toDate(hist.hour, {tz:String}) < toDate(toDateTime(intDiv(c.2, 1000), 'UTC'), {tz:String})
       GROUP BY c`,
      {
        cands: JSON.stringify(busy.map((b) => [b.person, Number(b.h), groups.get(b.person)?.group ?? ''])),
        from: t(Number(busy[0]!.h) - hist * 86_400_000 - 86_400_000),
        to: t(points[points.length - 1]!),
        tz,
        histMs: hist * 86_400_000,
      },
    );
    const prof = new Map(profile.map((r) => [`${r.person}|${Number(r.h)}`, r]));
    const flagged = busy
      .map((b) => ({ b, f: prof.get(`${b.person}|${Number(b.h)}`) }))
      .filter(({ f }) => {
        if (!f) return false;
        const ownShare = Number(f.own_all) > 0 ? Number(f.own_at) / Number(f.own_all) : 0;
        const grpShare = Number(f.grp_all) > 0 ? Number(f.grp_at) / Number(f.grp_all) : 0;
        const ownOk = Number(f.own_days) >= p('min_history_days');
        const peersOk = Number(f.members) >= 2 && Number(f.grp_all) > 0;
        if (!ownOk && !peersOk) return false;
        return (!ownOk || ownShare <= p('max_share')) && (!peersOk || grpShare <= p('max_share'));
      });
    const ev = await gatherEvidence(
      ctx.engine,
      ctx.catalogSql.categories,
      flagged.map(({ b }, i) => ({
        fid: String(i),
        type: 'person',
        id: b.person,
        from: Number(b.h),
        to: Number(b.h) + HOUR_MS,
      })),
    );
    return flagged.map(({ b, f }, i) => {
      const e = ev.get(String(i));
      const own = f!;
      const ownOk = Number(own.own_days) >= p('min_history_days');
      const localHour = new Intl.DateTimeFormat('en-GB', {
        timeZone: tz,
        hour: '2-digit',
        hourCycle: 'h23',
      }).format(new Date(Number(b.h)));
      let score = 30 + Math.min(30, Math.round(10 * Math.log2(Number(b.subjects) / p('min_subjects') + 1)));
      if (!ownOk) score = Math.min(score, 35);
      const end = Number(b.h) + HOUR_MS;
      return {
        detector: 'off-hours',
        entity: { type: 'person' as const, id: b.person },
        window_start: isoTime(new Date(end - range.windowSeconds * 1000)),
        window_end: isoTime(new Date(end)),
        score,
        summary: `${b.person} made ${b.events} calls reading ${b.subjects} people between ${localHour}:00 and ${localHour}:59 (${tz}), an hour when they and their peers are almost never active`,
        evidence: {
          events: Number(b.events),
          subjects: Number(b.subjects),
          local_hour: Number(localHour),
          baseline: {
            own: {
              events_at_this_hour: Number(own.own_at),
              events_all_hours: Number(own.own_all),
              share: round(Number(own.own_all) ? Number(own.own_at) / Number(own.own_all) : 0, 4),
              days: Number(own.own_days),
            },
            peers: {
              group: groups.get(b.person)?.group ?? '',
              size: Number(own.members),
              share: round(Number(own.grp_all) ? Number(own.grp_at) / Number(own.grp_all) : 0, 4),
            },
          },
          categories: e?.categories ?? [],
          example_event_ids: e?.example_event_ids ?? [],
          first_seen: e?.first_seen ?? isoTime(new Date(Number(b.h))),
          last_seen: e?.last_seen ?? isoTime(new Date(end)),
        },
        related: relatedOf({ type: 'person', id: b.person }, e),
      };
    });
  },
};
