import type { Migration } from './types.ts';

/**
 * Baseline rollups for the behavioural detectors (fan-out, low and slow, new origin, category
 * drift, off hours). Plain tables, no materialised views: views on `events` made ingest ten times
 * slower, so the rollups are refreshed explicitly by detection (`detect/baselines/refresh.ts`),
 * which recomputes whole hours that received events since they were last computed.
 *
 * Every rollup is a ReplacingMergeTree keyed by its natural key with a `version` (the refresh
 * that wrote the row): recomputing an hour writes a newer row that replaces the old one, and
 * readers use FINAL, so late events and re-ingest never count twice.
 *
 * - `baseline_hourly`: per UTC hour and entity — staff accounts (`actor`) and the people behind
 *   them (`person`); addresses, /24 subnets, ASNs and user agents of everything else (customer
 *   tokens, unknown accounts); `site` for the whole site — events, exact distinct subjects and
 *   accounts in the hour, and sketches of both for unions over days.
 * - `baseline_origins`: per hour, staff account, country and ASN: events and subjects.
 * - `baseline_categories`: per hour, staff account and data category read: events and subjects.
 * - `baseline_daily`: per local day (site time zone) and entity, merged from the hours, with its
 *   peer group and the distinct subjects of the seven days ending that day (`n7`).
 * - `baseline_peers`: per judged day, peer group and entity type, the figures of the previous
 *   days (quantiles of daily and peak-hour fan-out); computed once per day boundary.
 * - `baseline_hours` / `baseline_days`: what has been computed, from which input.
 */
export const baselines: Migration = {
  version: 5,
  name: 'baseline rollups',
  statements: (d) => {
    const lc = (t: string) => d.lowCardinality(t);
    const rmt = (orderBy: string, partitionBy?: string) =>
      d.sqlMergeTree({
        engine: 'ReplacingMergeTree(version)',
        orderBy,
        ...(partitionBy ? { partitionBy } : {}),
      });
    return [
      `CREATE TABLE IF NOT EXISTS baseline_hourly (
        hour DateTime('UTC'),
        entity_type ${lc('String')},
        entity_id String,
        klass ${lc('String')},
        events UInt64,
        subjects UInt64,
        actors UInt64,
        ips UInt64,
        sub_st AggregateFunction(uniqCombined(12), String),
        act_st AggregateFunction(uniqCombined(12), String),
        version UInt64
      ) ${rmt('(hour, entity_type, entity_id)', 'toYYYYMM(hour)')}`,
      `CREATE TABLE IF NOT EXISTS baseline_origins (
        hour DateTime('UTC'),
        actor_uid String,
        country ${lc('String')},
        asn UInt32,
        net_class ${lc('String')},
        as_org ${lc('String')},
        events UInt64,
        subjects UInt64,
        version UInt64
      ) ${rmt('(actor_uid, country, asn, hour)', 'toYYYYMM(hour)')}`,
      `CREATE TABLE IF NOT EXISTS baseline_categories (
        hour DateTime('UTC'),
        actor_uid String,
        category ${lc('String')},
        events UInt64,
        subjects UInt64,
        version UInt64
      ) ${rmt('(actor_uid, category, hour)', 'toYYYYMM(hour)')}`,
      `CREATE TABLE IF NOT EXISTS baseline_daily (
        day Date,
        entity_type ${lc('String')},
        entity_id String,
        klass ${lc('String')},
        grp String,
        events UInt64,
        n_day UInt64,
        peak UInt64,
        actors UInt64,
        ips UInt64,
        n7 UInt64,
        hours_mask UInt32,
        sub_st AggregateFunction(uniqCombined(12), String),
        version UInt64
      ) ${rmt('(entity_type, entity_id, day)', 'toYYYYMM(day)')}`,
      `CREATE TABLE IF NOT EXISTS baseline_peers (
        day Date,
        entity_type ${lc('String')},
        grp String,
        members UInt64,
        member_days UInt64,
        days UInt32,
        day_q Array(Float64),
        peak_q Array(Float64),
        n7_q Array(Float64),
        day_max UInt64,
        peak_max UInt64,
        inputs_version UInt64,
        version UInt64
      ) ${rmt('(day, entity_type, grp)')}`,
      `CREATE TABLE IF NOT EXISTS baseline_hours (
        hour DateTime('UTC'),
        events UInt64,
        ingested_max DateTime,
        version UInt64
      ) ${rmt('hour')}`,
      `CREATE TABLE IF NOT EXISTS baseline_days (
        day Date,
        inputs_version UInt64,
        version UInt64
      ) ${rmt('day')}`,
    ];
  },
};
