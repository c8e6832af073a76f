import type { Engine } from '../store/index.ts';
import { INSERT_SETTINGS } from './sql.ts';

/**
 * One row per exposed subject from the attributed events: the union of categories returned, first
 * and last exposure, how many exposing events, and confirmed when any of them is. An operation the
 * catalog does not know still exposes its subjects (with no named category): a catalog gap is
 * never treated as harmless. A known operation that returns no category exposes nothing.
 */
export async function materialiseExposures(
  engine: Engine,
  cid: string,
  incident: string,
  categoryNames: readonly string[],
): Promise<void> {
  // Categories as a bitmask per event, OR-ed per subject and decoded once: per-subject hash sets
  // (groupUniqArray) made this step several times slower on millions of subjects.
  const names = `[${categoryNames.map((c) => engine.dialect.sqlString(c)).join(', ')}]::Array(String)`;
  const mask = categoryNames.length
    ? `toUInt64(arraySum(arrayMap(x -> toUInt64(if(has(${names}, x), bitShiftLeft(toUInt64(1), toUInt8(indexOf(${names}, x) - 1)), 0)), categories)))`
    : 'toUInt64(0)';
  // The strongest event first: confirmed before probable, then earliest. One UInt64 (confidence in
  // bit 62 above milliseconds shifted positive) orders exactly as the tuple (not confirmed, time)
  // and made argMin several times faster than comparing tuples.
  const strongest = `bitOr(bitShiftLeft(toUInt64(confidence != 'confirmed'), 62), toUInt64(toUnixTimestamp64Milli(time) + ${2 ** 44}))`;
  await engine.exec(
    `INSERT INTO exposures (computation_id, incident, subject_id, subject_type, categories, first_exposed,
       last_exposed, events, confidence, indicator)
     SELECT {cid:String}, {incident:String}, subject_id, if(customer, 'customer', subject_type),
       arrayFilter((c, i) -> bitTest(cats, i - 1), ${names}, arrayEnumerate(${names})), first, last, n,
       if(confirmed, 'confirmed', 'probable'), indicator
     FROM (
       SELECT subject_id, max(stype = 'customer') AS customer, any(stype) AS subject_type,
         groupBitOr(${mask}) AS cats, min(time) AS first, max(time) AS last, count() AS n,
         max(confidence = 'confirmed') AS confirmed, argMin(indicator, ${strongest}) AS indicator
       FROM scope_events ARRAY JOIN subject_ids AS subject_id, subject_types AS stype
       WHERE computation_id = {cid:String} AND exposing AND (NOT known OR notEmpty(categories))
       GROUP BY subject_id
     ) ${INSERT_SETTINGS}`,
    { cid, incident },
  );
}
