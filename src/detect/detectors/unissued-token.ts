import type { DetectContext, Detector, EntityRef, Finding, WindowRange } from '../detector.ts';
import { type RollupDimension, type RollupRow, rollupSql, topEvidence } from '../rollup.ts';
import { isoTime, numParam, parseSqlTime, sqlTime } from '../sql.ts';

/**
 * Unissued token: an API call authenticated by a token the login service never issued, or signed
 * by a key the inventory does not know, or by a key already retired when the token was made, or
 * living longer than policy allows. A gateway that checks signatures but not issuance accepts all
 * of these; the issuance log is what shows them.
 *
 * One finding per (window, signing key): a forged-token campaign is one stream of findings about
 * one key, with the addresses, agents and accounts it used as evidence and links, not one alert
 * per token. The issuance lookup is a join against the tokens issued in a bounded range (the
 * window's range minus the longest token lifetime allowed, plus skew), restricted to the tokens
 * used in the range, so its cost follows the range and not the history.
 */

const DIMENSIONS: RollupDimension[] = [
  { name: 'token', top: 5 },
  { name: 'ip', top: 10 },
  { name: 'user_agent', top: 5 },
  { name: 'actor', top: 10 },
  { name: 'asn', top: 5 },
  { name: 'country', top: 5 },
  { name: 'operation', top: 10 },
  { name: 'category', top: 20 },
  { name: 'reason', top: 4 },
  { name: 'subject', top: 0 },
];
const dim = (name: string) => DIMENSIONS.findIndex((d) => d.name === name);

const REASONS: Record<string, { score: number; text: string }> = {
  not_issued: { score: 90, text: 'the login service never issued' },
  unknown_key: { score: 90, text: 'signed by a key missing from the key inventory' },
  retired_key: { score: 80, text: 'issued after the key was retired' },
  overlong: { score: 50, text: 'living longer than the token lifetime policy' },
};

/** Start of the issuance log: uses earlier than its reach cannot be judged as unissued. */
async function issuanceCoverageMs(ctx: DetectContext): Promise<number | null> {
  // Read in primary-key order (hour first) so only the first hour with issuance is scanned.
  const rows = await ctx.engine.query<{ first: string }>(
    `SELECT min(time) AS first FROM events
     WHERE class_uid = 3002 AND activity_id = 3 AND token_id != '' AND toStartOfHour(time) = (
       SELECT toStartOfHour(time) AS h FROM events
       WHERE class_uid = 3002 AND activity_id = 3 AND token_id != '' ORDER BY h LIMIT 1)`,
  );
  const first = rows[0]?.first;
  if (!first || first.startsWith('1970-01-01')) return null;
  return parseSqlTime(first).getTime();
}

function sql(ctx: DetectContext, windowSeconds: number): string {
  const d = ctx.dialect;
  const ms = (x: string) => d.sqlEpochMs(x);
  const reasonDims = Object.keys(REASONS)
    .map((r) => `('reason', if(${r}, '${r}', ''))`)
    .join(', ');
  const uses = `class_uid = 6003 AND status_id = 1 AND token_id != ''
    AND time >= {start:DateTime64(3, 'UTC')} AND time < {end:DateTime64(3, 'UTC')}`;
  const issuances = `class_uid = 3002 AND activity_id = 3 AND status_id = 1 AND token_id != ''
    AND time >= {issuedFrom:DateTime64(3, 'UTC')} AND time <= {issuedTo:DateTime64(3, 'UTC')}`;
  // Tokens not cleared in one pass over uses and issuances together: a token is cleared when one
  // issuance is late enough for its last use and early enough for its first (then it covers every
  // use in between), which is nearly every token: sessions last minutes, the lookback a day. Only
  // the uses of the rest are looked up one by one, so the per-call join holds the few suspects,
  // not every token used in a window of millions of calls.
  const suspects = `(SELECT token_id FROM (
      SELECT token_id, minIf(ms, use) AS first_use, maxIf(ms, use) AS last_use, groupArrayIf(ms, NOT use) AS issued
      FROM (SELECT token_id, class_uid = 6003 AS use, ${ms('time')} AS ms FROM events WHERE (${uses}) OR (${issuances}))
      GROUP BY token_id
      HAVING countIf(use) > 0
        AND NOT arrayExists(x -> x >= last_use - {lookbackMs:Int64} AND x <= first_use + {aheadMs:Int64}, issued)))`;
  // Every API call of the range is judged, with only the columns the four tests read plus the raw
  // columns a finding shows; addresses as text, the catalog lookup and the dimensions are built
  // afterwards for the flagged calls alone (a live window holds millions of calls and a handful of
  // forged ones). Calls of a cleared token, signed by a key in service, with a lifetime within
  // policy cannot be flagged and are dropped first.
  const judged = `
    SELECT u.time AS time, u.event_id AS event_id, u.key_id AS key_id, u.token_id AS token_id,
      u.src_ip AS src_ip, u.user_agent AS user_agent, u.actor_uid AS actor_uid, u.asn AS asn,
      u.country AS country, u.operation AS operation, u.http_method AS http_method, u.url_path AS url_path,
      u.subject_ids AS subject_ids,
      ${ms('u.time')} AS use_ms,
      u.token_id IN ${suspects}
        AND NOT arrayExists(x -> x >= use_ms - {lookbackMs:Int64} AND x <= use_ms + {aheadMs:Int64}, i.times)
        AND (use_ms - {lookbackMs:Int64} >= {coverageMs:Int64}
             OR (u.token_created_ms > 0 AND u.token_created_ms - {skewMs:Int64} >= {coverageMs:Int64}))
        AS not_issued,
      {keysKnown:UInt8} = 1 AND u.key_id != '' AND k.key_id = '' AS unknown_key,
      k.key_id != '' AND k.retired_on IS NOT NULL
        AND if(u.token_created_ms > 0, u.token_created_ms, use_ms)
            >= toUnixTimestamp(toDateTime(assumeNotNull(k.retired_on), {tz:String})) * 1000 + {skewMs:Int64}
        AS retired_key,
      u.token_created_ms > 0 AND u.token_expires_ms > 0
        AND u.token_expires_ms - u.token_created_ms > {maxLifetimeMs:Int64} AS overlong
    FROM events AS u
    LEFT JOIN (
      SELECT token_id, groupArray(${ms('time')}) AS times FROM events
      WHERE ${issuances} AND token_id IN ${suspects}
      GROUP BY token_id
    ) AS i ON u.token_id = i.token_id
    LEFT JOIN keys_current AS k ON toString(u.key_id) = k.key_id
    WHERE u.class_uid = 6003 AND u.status_id = 1 AND u.token_id != ''
      AND u.time >= {start:DateTime64(3, 'UTC')} AND u.time < {end:DateTime64(3, 'UTC')}
      AND (u.token_id IN ${suspects}
        OR toString(u.key_id) NOT IN (SELECT key_id FROM keys_current WHERE retired_on IS NULL)
        OR u.token_expires_ms - u.token_created_ms > {maxLifetimeMs:Int64})`;
  const inner = `
    SELECT ${d.sqlWindowStart('time', windowSeconds)} AS ws, toString(key_id) AS grp, time, event_id,
      arrayConcat([${reasonDims},
        ('token', token_id), ('ip', ${d.sqlIpToString('src_ip')}), ('user_agent', toString(user_agent)),
        ('actor', actor_uid), ('asn', if(asn = 0, '', concat('AS', toString(asn)))),
        ('country', toString(country)), ('operation', ${ctx.catalogSql.operation})],
        arrayMap(c -> ('category', c), ${ctx.catalogSql.categories}),
        arrayMap(s -> ('subject', s), subject_ids)) AS dims
    FROM (${judged})
    WHERE not_issued OR unknown_key OR retired_key OR overlong`;
  return rollupSql(inner, DIMENSIONS);
}

export const unissuedToken: Detector = {
  meta: {
    id: 'unissued-token',
    title: 'Tokens the login service never issued',
    description:
      'Finds API calls accepted with an access token that has no issuance record in the authentication log, ' +
      'or that was signed by a key missing from the key inventory, signed by a key after its retirement day, ' +
      'or whose lifetime exceeds policy. A gateway that verifies signatures but not issuance accepts such ' +
      'tokens, so a leaked signing key lets anyone act as any customer; one finding per signing key and ' +
      'window gathers the forged tokens, addresses, agents and accounts involved.',
    false_positives: [
      'Clock skew between the login service and the gateway: an issuance logged up to clock_skew_seconds plus issuance_log_delay_seconds after the first use still counts as issued.',
      'Tokens issued before the issuance log begins: uses are only judged once the log reaches back a full token lifetime (or to the token iat), so the first hours of a new workspace stay quiet.',
      'Planned key rotation: tokens issued before the retirement day stay valid until they expire; only tokens issued on or after it count.',
      'Rejected calls (status failure) are not judged: scanners sending garbage tokens are stopped by the gateway.',
      'A lost issuance log line makes one legitimate token look forged; such a finding names a single token and one account, which an analyst can verify against the login service.',
    ],
    severity: 'critical',
    defaults: {
      clock_skew_seconds: 120,
      issuance_log_delay_seconds: 60,
      max_token_lifetime_seconds: 86_400,
    },
    lookback_seconds: 86_400 + 120,
  },

  lookaheadSeconds(params) {
    return Number(params.clock_skew_seconds ?? 0) + Number(params.issuance_log_delay_seconds ?? 0);
  },

  async evaluate(ctx: DetectContext, range: WindowRange): Promise<Finding[]> {
    const skew = numParam(ctx, 'clock_skew_seconds') * 1000;
    const delay = numParam(ctx, 'issuance_log_delay_seconds') * 1000;
    const lifetime = numParam(ctx, 'max_token_lifetime_seconds') * 1000;
    const coverage = await issuanceCoverageMs(ctx);
    const [{ n: keyCount } = { n: 0 }] = await ctx.engine.query<{ n: number }>(
      'SELECT count() AS n FROM keys_current',
    );
    const rows = await ctx.engine.query<RollupRow>(sql(ctx, range.windowSeconds), {
      start: sqlTime(range.start),
      end: sqlTime(range.end),
      issuedFrom: sqlTime(new Date(range.start.getTime() - lifetime - skew)),
      issuedTo: sqlTime(new Date(range.end.getTime() + skew + delay)),
      lookbackMs: lifetime + skew,
      aheadMs: skew + delay,
      skewMs: skew,
      // Without any issuance log nothing can be judged unissued: point coverage past every use.
      coverageMs: coverage ?? Number.MAX_SAFE_INTEGER,
      keysKnown: keyCount > 0 ? 1 : 0,
      tz: ctx.settings.timezone,
      maxLifetimeMs: lifetime,
    });
    return rows.map((r) => toFinding(r, range, ctx));
  },
};

function toFinding(r: RollupRow, range: WindowRange, ctx: DetectContext): Finding {
  const top = (name: string) => topEvidence(r.tops[dim(name)] ?? []);
  const count = (name: string) => Number(r.distinct[dim(name)] ?? 0);
  const reasons = Object.fromEntries(top('reason').map((x) => [x.value, x.events]));
  const strongest = Object.keys(REASONS).find((k) => reasons[k]) ?? 'overlong';
  const tokens = count('token');
  const score = Math.min(100, REASONS[strongest].score + Math.min(10, Math.round(Math.log10(tokens) * 5)));
  const keyId = r.grp;
  const start = parseSqlTime(r.ws);
  const end = new Date(start.getTime() + range.windowSeconds * 1000);
  const entity: EntityRef = { type: 'key', id: keyId === '' ? '(no key id)' : keyId };
  // Accounts are left out of `related`: a forged token's account is the victim, not a party to the
  // attack, and two campaigns that happened to impersonate one customer must not merge. They are
  // in the evidence (top_actors) and in the scope.
  const related: EntityRef[] = [
    ...top('ip').map((x) => ({ type: 'ip' as const, id: x.value })),
    ...top('user_agent').map((x) => ({ type: 'user_agent' as const, id: x.value })),
    ...top('asn').map((x) => ({ type: 'asn' as const, id: x.value })),
    ...top('token').map((x) => ({ type: 'token' as const, id: x.value })),
  ];
  const why = Object.keys(REASONS)
    .filter((k) => reasons[k])
    .map((k) => REASONS[k].text)
    .join('; ');
  const subjects = count('subject');
  return {
    detector: 'unissued-token',
    entity,
    window_start: isoTime(start),
    window_end: isoTime(end),
    score,
    summary:
      `${r.events} API call${r.events === 1 ? '' : 's'} with ${tokens} token${tokens === 1 ? '' : 's'} signed by ` +
      `${entity.id} that ${why}, from ${count('ip')} address${count('ip') === 1 ? '' : 'es'}` +
      `${subjects > 0 ? `, reading ${subjects} people's records` : ''}`,
    evidence: {
      events: Number(r.events),
      tokens,
      reasons,
      addresses: count('ip'),
      user_agents: count('user_agent'),
      actors: count('actor'),
      subjects,
      first_seen: isoTime(r.first_seen),
      last_seen: isoTime(r.last_seen),
      top_addresses: top('ip'),
      top_user_agents: top('user_agent'),
      top_asns: top('asn'),
      top_actors: top('actor'),
      countries: top('country'),
      operations: top('operation'),
      categories: top('category').map((x) => x.value),
      example_tokens: top('token').map((x) => x.value),
      example_event_ids: r.example_event_ids,
      baseline: {
        issuance: `authentication log (class 3002, activity 3), from ${Number(ctx.params.max_token_lifetime_seconds) / 3600} h before each use to ${Number(ctx.params.clock_skew_seconds) + Number(ctx.params.issuance_log_delay_seconds)} s after it`,
        key_inventory: 'keys.csv as last loaded',
        max_token_lifetime_seconds: Number(ctx.params.max_token_lifetime_seconds),
      },
    },
    related,
  };
}
