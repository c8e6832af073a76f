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
 * Category drift: a staff account (employee or service) reading a data category (through the
 * catalog) it never read in the previous `history_days`, and that its peers (same department,
 * role and country) rarely read either; a service has no peers, so any new category counts.
 * Judged at every full hour from the hourly category rollups; one finding per account and hour.
 */

export const categoryDrift: Detector = {
  meta: {
    id: 'category-drift',
    title: 'Staff account reading data categories its role does not read',
    description:
      'Flags an employee or service account that starts reading a data category (door codes, payment details, address books…) that it never read before and that few of its peers read, in volume. A leaked service credential used to browse address books, or an agent pulling payment data, shows here even when the volume is modest.',
    false_positives: [
      'Occasional lookups: needs `min_subjects` people with that category in the hour.',
      'Categories the role reads anyway: only categories read by fewer than `rare_share` of the peers in the history count.',
      'New hires and new services: accounts with fewer than `min_history_days` days of history are not judged.',
    ],
    severity: 'medium',
    defaults: {
      history_days: 28,
      min_history_days: 3,
      min_subjects: 10,
      rare_share: 0.1,
      min_peers: 3,
      employee_score: 30,
      service_score: 50,
      sensitive_categories: 'door_code,payment,credential',
    },
    lookback_seconds: 29 * 86_400,
  },

  async evaluate(ctx: DetectContext, range: WindowRange): Promise<Finding[]> {
    const hist = numParam(ctx, 'history_days');
    const p = (n: string) => numParam(ctx, n);
    const points = hourPoints(range.start.getTime(), range.end.getTime(), range.windowSeconds);
    if (points.length === 0) return [];
    await prepareBaselines(ctx, range, hist);
    const tz = ctx.settings.timezone;
    const t = (ms: number) => sqlTime(new Date(ms)).slice(0, 19);
    const a = points[0]! - HOUR_MS;
    const b = points[points.length - 1]!;
    const histFrom = a - hist * 86_400_000;
    // First reads of a category by an account, in volume, within the range.
    const firsts = await ctx.engine.query<{
      actor: string;
      category: string;
      h: number;
      subjects: number;
      events: number;
    }>(
      `SELECT c.actor_uid AS actor, c.category AS category, toUnixTimestamp(c.hour) * 1000 AS h, c.subjects AS subjects, c.events AS events
       FROM (SELECT * FROM baseline_categories FINAL WHERE hour >= {a:DateTime('UTC')} AND hour < {b:DateTime('UTC')}
             AND subjects >= {min:UInt32}) AS c
       INNER JOIN (SELECT actor_uid, category, min(hour) AS first FROM baseline_categories FINAL
                   WHERE hour >= {h:DateTime('UTC')} AND hour < {b:DateTime('UTC')} GROUP BY actor_uid, category) AS f
         ON c.actor_uid = f.actor_uid AND c.category = f.category
       WHERE c.hour = f.first`,
      { a: t(a), b: t(b), h: t(histFrom), min: p('min_subjects') },
    );
    if (firsts.length === 0) return [];
    // History: who read what, and who was active, before the range.
    const history = await ctx.engine.query<{ actor: string; cats: string[]; days: number }>(
      `SELECT o.actor_uid AS actor, any(c.cats) AS cats, uniqExact(toDate(o.hour, {tz:String})) AS days
       FROM (SELECT actor_uid, hour FROM baseline_origins FINAL WHERE hour >= {h:DateTime('UTC')} AND hour < {a:DateTime('UTC')}) AS o
       LEFT JOIN (SELECT actor_uid, groupUniqArray(category) AS cats FROM baseline_categories FINAL
                  WHERE hour >= {h:DateTime('UTC')} AND hour < {a:DateTime('UTC')} GROUP BY actor_uid) AS c
         ON o.actor_uid = c.actor_uid
       GROUP BY o.actor_uid`,
      { h: t(histFrom), a: t(a), tz },
    );
    const groups = await staffGroups(ctx.engine, [
      ...new Set([...history.map((r) => r.actor), ...firsts.map((f) => f.actor)]),
    ]);
    const byGroup = new Map<string, { actor: string; cats: Set<string> }[]>();
    for (const r of history) {
      const g = groups.get(r.actor)?.group ?? '';
      const list = byGroup.get(g) ?? [];
      list.push({ actor: r.actor, cats: new Set(r.cats) });
      byGroup.set(g, list);
    }
    const daysOf = new Map(history.map((r) => [r.actor, Number(r.days)]));
    const sensitive = new Set(
      String(ctx.params.sensitive_categories)
        .split(',')
        .map((x) => x.trim()),
    );
    const hits = new Map<
      string,
      { actor: string; end: number; cats: { category: string; subjects: number; share: number | null }[] }
    >();
    for (const f of firsts) {
      if ((daysOf.get(f.actor) ?? 0) < p('min_history_days')) continue;
      const g = groups.get(f.actor);
      let share: number | null = null;
      if (!g?.service) {
        const peers = (byGroup.get(g?.group ?? '') ?? []).filter((m) => m.actor !== f.actor);
        if (peers.length < p('min_peers')) continue;
        share = peers.filter((m) => m.cats.has(f.category)).length / peers.length;
        if (share >= p('rare_share')) continue;
      }
      const end = Number(f.h) + HOUR_MS;
      const k = `${f.actor}|${end}`;
      const e = hits.get(k) ?? { actor: f.actor, end, cats: [] };
      e.cats.push({ category: f.category, subjects: Number(f.subjects), share });
      hits.set(k, e);
    }
    const list = [...hits.values()];
    const ev = await gatherEvidence(
      ctx.engine,
      ctx.catalogSql.categories,
      list.map((x, i) => ({ fid: String(i), type: 'actor', id: x.actor, from: x.end - HOUR_MS, to: x.end })),
    );
    return list.map((x, i) => {
      const g = groups.get(x.actor);
      const e = ev.get(String(i));
      const subjects = Math.max(...x.cats.map((c) => c.subjects));
      let score = g?.service ? p('service_score') : p('employee_score');
      if (x.cats.some((c) => sensitive.has(c.category))) score += 15;
      if (subjects >= 50) score += 10;
      x.cats.sort((m, n) => m.category.localeCompare(n.category));
      const names = x.cats.map((c) => c.category).join(', ');
      return {
        detector: 'category-drift',
        entity: { type: 'actor' as const, id: x.actor },
        window_start: isoTime(new Date(x.end - range.windowSeconds * 1000)),
        window_end: isoTime(new Date(x.end)),
        score: Math.min(95, score),
        summary: `${g?.service ? 'service' : 'staff'} account ${x.actor} read ${names} for ${subjects} people in an hour, ${g?.service ? 'which it never read before' : 'which it never read and few of its peers read'}`,
        evidence: {
          new_categories: x.cats.map((c) => ({
            category: c.category,
            subjects: c.subjects,
            peer_share: c.share === null ? null : round(c.share, 3),
          })),
          baseline: {
            own: {
              days: daysOf.get(x.actor) ?? 0,
              categories_read: [
                ...((byGroup.get(g?.group ?? '') ?? []).find((m) => m.actor === x.actor)?.cats ?? []),
              ].sort(),
            },
            peers: g?.service
              ? null
              : { group: g?.group ?? '', size: (byGroup.get(g?.group ?? '') ?? []).length - 1 },
          },
          events: e?.events ?? 0,
          categories: e?.categories ?? x.cats.map((c) => c.category),
          example_event_ids: e?.example_event_ids ?? [],
          first_seen: e?.first_seen ?? isoTime(new Date(x.end - HOUR_MS)),
          last_seen: e?.last_seen ?? isoTime(new Date(x.end)),
        },
        related: relatedOf({ type: 'actor', id: x.actor }, e, g?.person || undefined),
      };
    });
  },
};
