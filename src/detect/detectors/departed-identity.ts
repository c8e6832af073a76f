import type { DetectContext, Detector, EntityRef, Finding, WindowRange } from '../detector.ts';
import { type RollupDimension, type RollupRow, rollupSql, topEvidence } from '../rollup.ts';
import { isoTime, numParam, parseSqlTime, sqlTime } from '../sql.ts';

/**
 * Departed identity: any activity by an account that belongs to a person who has left, from 00:00
 * (site time zone) of their `left_on` day. Accounts handed over to a team (listed as services)
 * are not the person's any more. A re-hire shows as `left_on` cleared in a newer roster load, which
 * the current view reflects. One finding per (window, account).
 */

const DIMENSIONS: RollupDimension[] = [
  { name: 'person', top: 1 },
  { name: 'left_on', top: 1 },
  { name: 'outcome', top: 2 },
  { name: 'class', top: 2 },
  { name: 'ip', top: 5 },
  { name: 'user_agent', top: 3 },
  { name: 'asn', top: 3 },
  { name: 'country', top: 5 },
  { name: 'operation', top: 10 },
  { name: 'category', top: 20 },
  { name: 'subject', top: 0 },
];
const dim = (name: string) => DIMENSIONS.findIndex((d) => d.name === name);

function sql(ctx: DetectContext, windowSeconds: number): string {
  const d = ctx.dialect;
  const inner = `
    SELECT ${d.sqlWindowStart('time', windowSeconds)} AS ws, actor_uid AS grp, time, event_id,
      arrayConcat([
        ('person', p.person_id), ('left_on', toString(p.left_on)),
        ('outcome', if(status_id = 1, 'success', 'failure')),
        ('class', if(class_uid = 3002, 'authentication', 'api')),
        ('ip', ${d.sqlIpToString('src_ip')}), ('user_agent', toString(user_agent)),
        ('asn', if(asn = 0, '', concat('AS', toString(asn)))), ('country', toString(country)),
        ('operation', if(class_uid = 3002, '', ${ctx.catalogSql.operation}))],
        arrayMap(c -> ('category', c), if(class_uid = 3002, [], ${ctx.catalogSql.categories})),
        arrayMap(s -> ('subject', s), subject_ids)) AS dims
    FROM events
    INNER JOIN (
      SELECT principal_id, person_id, left_on,
        toUnixTimestamp(toDateTime(assumeNotNull(left_on), {tz:String})) * 1000 AS left_ms
      FROM principals_current
      WHERE left_on IS NOT NULL AND principal_id NOT IN (SELECT principal_id FROM services_current)
    ) AS p ON events.actor_uid = p.principal_id
    WHERE time >= {start:DateTime64(3, 'UTC')} AND time < {end:DateTime64(3, 'UTC')}
      AND ${d.sqlEpochMs('time')} >= p.left_ms + {graceMs:Int64}`;
  return rollupSql(inner, DIMENSIONS);
}

export const departedIdentity: Detector = {
  meta: {
    id: 'departed-identity',
    title: 'Accounts of people who have left, still in use',
    description:
      'Finds any activity (logins, token issuance, API calls) by an account that belongs to a person whose ' +
      'left_on day has begun in the site time zone. A departed employee who still holds a working account, ' +
      'or someone using it on their behalf, can read personal data with no business reason.',
    false_positives: [
      'An account handed over to a team: list it in services.csv and it is no longer judged as the person’s.',
      'A person re-hired after leaving: the newer roster load clears left_on, and activity after that load is judged by it.',
      'A session still open at midnight of the last day, or clocks slightly ahead: activity within grace_seconds after 00:00 is tolerated.',
      'Failed logins only (the account is locked) score lower than successful use.',
    ],
    severity: 'high',
    defaults: { grace_seconds: 120 },
    lookback_seconds: 0,
  },

  async evaluate(ctx: DetectContext, range: WindowRange): Promise<Finding[]> {
    const rows = await ctx.engine.query<RollupRow>(sql(ctx, range.windowSeconds), {
      start: sqlTime(range.start),
      end: sqlTime(range.end),
      tz: ctx.settings.timezone,
      graceMs: numParam(ctx, 'grace_seconds') * 1000,
    });
    return rows.map((r) => toFinding(r, range));
  },
};

function toFinding(r: RollupRow, range: WindowRange): Finding {
  const top = (name: string) => topEvidence(r.tops[dim(name)] ?? []);
  const count = (name: string) => Number(r.distinct[dim(name)] ?? 0);
  const person = top('person')[0]?.value ?? '';
  const leftOn = top('left_on')[0]?.value ?? '';
  const outcomes = Object.fromEntries(top('outcome').map((x) => [x.value, x.events]));
  const successes = outcomes.success ?? 0;
  const subjects = count('subject');
  const score = successes > 0 ? Math.min(95, 70 + Math.round(Math.log10(subjects + 1) * 8)) : 40;
  const start = parseSqlTime(r.ws);
  const end = new Date(start.getTime() + range.windowSeconds * 1000);
  const days = Math.floor(
    (parseSqlTime(r.first_seen).getTime() - Date.parse(`${leftOn}T00:00:00Z`)) / 86_400_000,
  );
  const related: EntityRef[] = [
    { type: 'person', id: person },
    ...top('ip').map((x) => ({ type: 'ip' as const, id: x.value })),
    ...top('user_agent').map((x) => ({ type: 'user_agent' as const, id: x.value })),
    ...top('asn').map((x) => ({ type: 'asn' as const, id: x.value })),
  ];
  return {
    detector: 'departed-identity',
    entity: { type: 'actor', id: r.grp },
    window_start: isoTime(start),
    window_end: isoTime(end),
    score,
    summary:
      `${r.events} event${r.events === 1 ? '' : 's'} (${successes} successful) by ${r.grp}, an account of ${person} ` +
      `who left on ${leftOn}${subjects > 0 ? `, reading ${subjects} people's records` : ''}`,
    evidence: {
      events: Number(r.events),
      outcomes,
      classes: Object.fromEntries(top('class').map((x) => [x.value, x.events])),
      person,
      left_on: leftOn,
      days_after_departure: Math.max(0, days),
      subjects,
      addresses: count('ip'),
      first_seen: isoTime(r.first_seen),
      last_seen: isoTime(r.last_seen),
      top_addresses: top('ip'),
      top_user_agents: top('user_agent'),
      countries: top('country'),
      operations: top('operation'),
      categories: top('category').map((x) => x.value),
      example_event_ids: r.example_event_ids,
      baseline: { roster: 'people.csv as last loaded (left_on, site time zone)' },
    },
    related,
  };
}
