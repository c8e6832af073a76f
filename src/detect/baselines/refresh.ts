import type { Dialect, Engine } from '../../store/index.ts';
import { sqlTime } from '../sql.ts';
import { STAFF, SUBJECTS, sqlPerEntity } from './entities.ts';
import { stopwatch } from './stopwatch.ts';
import { addDays, DAY_MS, dayStartMs, HOUR_MS, localDay } from './time.ts';

/**
 * Brings the baseline rollups up to date, explicitly and idempotently (no views on `events`, so
 * ingest pays nothing). An hour is (re)computed when `events` holds rows for it that its rollup has
 * not seen: more events, or a newer `ingested_at`, than when it was last computed. The whole hour
 * is recomputed and written with a newer version that replaces the old rows (ReplacingMergeTree,
 * read with FINAL), so late events and re-ingest never count twice. Local days are merged from
 * their hours once complete, and again when one of their hours (or of the six days before, for the
 * seven-day union) was recomputed.
 *
 * Several detectors call this for the same range; the first does the work, the others find nothing
 * stale (a per-process memo skips even the check while `events` has not changed).
 */

export interface RefreshOptions {
  /** Recompute hours in [from, until) (epoch ms; rounded to hours). */
  from: number;
  until: number;
  tz: string;
  /** SQL over an events row: Array(String) of the data categories it returns (the catalog). */
  categoriesSql: string;
}

export interface RefreshResult {
  hours: number;
  days: number;
  seconds: number;
}

let versionSeq = 0;
/** Strictly increasing across calls in this process, and above every earlier process's. */
export function nextVersion(): number {
  versionSeq = Math.max(versionSeq + 1, Date.now() * 1000);
  return versionSeq;
}

const memo = new WeakMap<Engine, { key: string; from: number; until: number }>();

function hourlySql(d: Dialect): string {
  const perEntity = sqlPerEntity(d, ['site', 'actor', 'person', 'ip', 'subnet', 'asn', 'user_agent'], {
    by: ['hour', 'toStartOfHour(e.time)'],
    aggregates: () => [
      ['events', 'count()'],
      ['sub_st', `uniqCombinedArrayState(12)(${SUBJECTS})`],
      ['act_st', 'uniqCombinedState(12)(e.actor_uid)'],
    ],
  });
  return `INSERT INTO baseline_hourly (hour, entity_type, entity_id, klass, events, subjects, actors, ips, sub_st, act_st, version)
    SELECT hour, entity_type, entity_id, klass, events, finalizeAggregation(sub_st) AS subjects,
      finalizeAggregation(act_st) AS actors, 0 AS ips, sub_st, act_st, {version:UInt64} AS version
    FROM (${perEntity})`;
}

const ORIGINS_SQL = `INSERT INTO baseline_origins (hour, actor_uid, country, asn, net_class, as_org, events, subjects, version)
  SELECT toStartOfHour(time) AS hour, actor_uid, toString(country) AS country, asn,
    anyHeavy(toString(net_class)), anyHeavy(toString(as_org)), count(),
    uniqExactArray(if(class_uid = 3002, [actor_uid], subject_ids)), {version:UInt64}
  FROM events
  WHERE time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')}
    AND actor_uid IN (SELECT principal_id FROM ${STAFF})
  GROUP BY hour, actor_uid, country, asn`;

function categoriesSql(cats: string): string {
  return `INSERT INTO baseline_categories (hour, actor_uid, category, events, subjects, version)
    SELECT hour, actor_uid, c AS category, count(), uniqExactArray(subject_ids), {version:UInt64}
    FROM (
      SELECT toStartOfHour(time) AS hour, actor_uid, subject_ids, ${cats} AS cats FROM events
      WHERE class_uid = 6003 AND time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')}
        AND actor_uid IN (SELECT principal_id FROM ${STAFF})
    )
    ARRAY JOIN cats AS c
    GROUP BY hour, actor_uid, category`;
}

/** Peer group of an entity, from its type, class and the roster as loaded now. */
const GROUP_SQL = `multiIf(
    t.entity_type IN ('ip', 'subnet', 'asn'), concat('net:', if(t.klass = '', 'other', t.klass)),
    t.entity_type = 'user_agent', 'ua',
    t.entity_type = 'site', 'site',
    t.entity_type = 'actor' AND t.klass = 'service', concat('service:', t.entity_id),
    t.entity_type = 'actor', concat('role:', p.department, '/', p.role, '/', p.country),
    t.entity_type = 'person', concat('role:', pp.department, '/', pp.role, '/', pp.country),
    'other')`;

const DAILY_SQL = `INSERT INTO baseline_daily (day, entity_type, entity_id, klass, grp, events, n_day, peak, actors, ips, n7, hours_mask, sub_st, version)
  SELECT toDate({day:String}) AS day, t.entity_type, t.entity_id, t.klass, ${GROUP_SQL} AS grp,
    t.events, t.n_day, t.peak, t.actors, t.ips, greatest(w.n7, t.n_day), t.hours_mask, t.st, {version:UInt64}
  FROM (
    SELECT entity_type, entity_id, anyHeavy(klass) AS klass, sum(events) AS events,
      uniqCombinedMerge(12)(sub_st) AS n_day, max(subjects) AS peak, uniqCombinedMerge(12)(act_st) AS actors, max(ips) AS ips,
      groupBitOr(bitShiftLeft(toUInt32(1), toHour(hour, {tz:String}))) AS hours_mask,
      uniqCombinedMergeState(12)(sub_st) AS st
    FROM baseline_hourly FINAL
    WHERE hour >= {from:DateTime('UTC')} AND hour < {to:DateTime('UTC')}
    GROUP BY entity_type, entity_id
  ) AS t
  LEFT JOIN (
    SELECT entity_type, entity_id, uniqCombinedMerge(12)(st2) AS n7 FROM (
      SELECT entity_type, entity_id, sub_st AS st2 FROM baseline_daily FINAL
      WHERE day >= toDate({day:String}) - 6 AND day < toDate({day:String})
      UNION ALL
      SELECT entity_type, entity_id, uniqCombinedMergeState(12)(sub_st) AS st2 FROM baseline_hourly FINAL
      WHERE hour >= {from:DateTime('UTC')} AND hour < {to:DateTime('UTC')}
      GROUP BY entity_type, entity_id)
    GROUP BY entity_type, entity_id
  ) AS w ON t.entity_type = w.entity_type AND t.entity_id = w.entity_id
  LEFT JOIN (SELECT principal_id, any(department) AS department, any(role) AS role, any(country) AS country
             FROM principals_current GROUP BY principal_id) AS p ON t.entity_id = p.principal_id
  LEFT JOIN (SELECT person_id, department, role, country FROM people_current) AS pp ON t.entity_id = pp.person_id`;

const hourText = (ms: number) => sqlTime(new Date(ms)).slice(0, 19);

export async function refreshBaselines(engine: Engine, o: RefreshOptions): Promise<RefreshResult> {
  const started = Date.now();
  const from = Math.floor(o.from / HOUR_MS) * HOUR_MS;
  const until = Math.floor(o.until / HOUR_MS) * HOUR_MS;
  const done = { hours: 0, days: 0, seconds: 0 };
  if (until <= from) return done;
  const [state] = await engine.query<{ m: string; n: number }>(
    'SELECT toString(max(ingested_at)) AS m, count() AS n FROM events',
  );
  const key = `${state?.m}|${state?.n}|${o.tz}`;
  const last = memo.get(engine);
  if (last && last.key === key && last.from <= from && last.until >= until) return done;

  // Hours whose events changed since they were computed.
  const [seen, stored] = await Promise.all([
    engine.query<{ h: number; n: number; m: string }>(
      `SELECT toUnixTimestamp(toStartOfHour(time)) AS h, count() AS n, toString(max(ingested_at)) AS m FROM events
       WHERE time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')} GROUP BY h ORDER BY h`,
      { from: sqlTime(new Date(from)), to: sqlTime(new Date(until)) },
    ),
    engine.query<{ h: number; n: number; m: string }>(
      `SELECT toUnixTimestamp(hour) AS h, events AS n, toString(ingested_max) AS m FROM baseline_hours FINAL
       WHERE hour >= {from:DateTime('UTC')} AND hour < {to:DateTime('UTC')}`,
      { from: hourText(from), to: hourText(until) },
    ),
  ]);
  if (process.env.VIGIL_DEBUG) process.stderr.write(`refresh check ${Date.now() - started}ms\n`);
  const have = new Map(stored.map((r) => [Number(r.h), r]));
  const dirty = seen.filter((r) => {
    const s = have.get(Number(r.h));
    return !s || Number(s.n) !== Number(r.n) || s.m !== r.m;
  });
  // Contiguous runs of at most a day, so memory stays bounded on long replays.
  const runs: { a: number; b: number; rows: typeof dirty }[] = [];
  for (const r of dirty) {
    const h = Number(r.h) * 1000;
    const run = runs[runs.length - 1];
    if (run && run.b === h && run.b - run.a < DAY_MS) {
      run.b = h + HOUR_MS;
      run.rows.push(r);
    } else runs.push({ a: h, b: h + HOUR_MS, rows: [r] });
  }
  const hourly = hourlySql(engine.dialect);
  const cats = categoriesSql(o.categoriesSql);
  for (const run of runs) {
    const version = nextVersion();
    const p = { from: sqlTime(new Date(run.a)), to: sqlTime(new Date(run.b)), version };
    const lap = stopwatch('refresh');
    await engine.exec(hourly, p);
    lap('hourly');
    await engine.exec(ORIGINS_SQL, p);
    lap('origins');
    await engine.exec(cats, p);
    lap('categories');
    await engine.insert(
      'baseline_hours',
      run.rows.map((r) => ({ hour: Number(r.h), events: Number(r.n), ingested_max: r.m, version })),
    );
    done.hours += run.rows.length;
  }
  done.days = await refreshDays(engine, from, until, o.tz);
  memo.set(engine, { key, from: Math.min(from, last?.key === key ? last.from : from), until });
  done.seconds = (Date.now() - started) / 1000;
  if (process.env.VIGIL_DEBUG)
    process.stderr.write(`refresh ${done.hours} hours, ${done.days} days in ${done.seconds}s\n`);
  return done;
}

/** Merges complete local days whose hours (or the six days before) changed since they were merged. */
async function refreshDays(engine: Engine, from: number, until: number, tz: string): Promise<number> {
  const first = localDay(from, tz);
  const lastDay = localDay(until - 1, tz);
  const [hours, daysDone] = await Promise.all([
    engine.query<{ d: string; v: number }>(
      `SELECT toString(toDate(hour, {tz:String})) AS d, max(version) AS v FROM baseline_hours FINAL
       WHERE hour >= {from:DateTime('UTC')} AND hour < {to:DateTime('UTC')} GROUP BY d`,
      { tz, from: hourText(dayStartMs(addDays(first, -6), tz)), to: hourText(until) },
    ),
    engine.query<{ d: string; v: number }>(
      `SELECT toString(day) AS d, inputs_version AS v FROM baseline_days FINAL
       WHERE day >= toDate({a:String}) AND day <= toDate({b:String})`,
      { a: first, b: lastDay },
    ),
  ]);
  const hourVersion = new Map(hours.map((r) => [r.d, Number(r.v)]));
  const built = new Map(daysDone.map((r) => [r.d, Number(r.v)]));
  let n = 0;
  for (let day = first; day <= lastDay; day = addDays(day, 1)) {
    const a = dayStartMs(day, tz);
    const b = dayStartMs(addDays(day, 1), tz);
    if (a < from || b > until || !hourVersion.has(day)) continue;
    let inputs = 0;
    for (let k = 0; k <= 6; k++) inputs = Math.max(inputs, hourVersion.get(addDays(day, -k)) ?? 0);
    if (built.get(day) === inputs) continue;
    const version = nextVersion();
    const lap = stopwatch('refresh');
    await engine.exec(DAILY_SQL, { day, tz, from: hourText(a), to: hourText(b), version });
    await engine.insert('baseline_days', [{ day, inputs_version: inputs, version }]);
    lap('daily');
    n++;
  }
  return n;
}
