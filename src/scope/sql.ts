import { availableParallelism } from 'node:os';
import {
  type Dialect,
  neverIssuedByGroupingSql,
  neverIssuedFromLedgerSql,
  type Params,
} from '../store/index.ts';

/**
 * Small SQL pieces shared by the scope queries. Lists of entity ids are bound as one JSON string
 * parameter and unpacked in the engine (`IN (SELECT arrayJoin(…))`), so any id is safe to bind and
 * the engine builds a set (and can use the skip indexes) instead of testing a list per row.
 */
export class SqlParams {
  readonly values: Params = {};
  private n = 0;

  /** `expr IN <the bound list>`; `cast` wraps each element (e.g. toIPv6). Empty list → false. */
  inList(expr: string, ids: readonly string[], cast = ''): string {
    if (ids.length === 0) return '0';
    const name = `l${this.n++}`;
    this.values[name] = JSON.stringify(ids);
    const item = `arrayJoin(JSONExtract({${name}:String}, 'Array(String)'))`;
    return `${expr} IN (SELECT ${cast ? `${cast}(${item})` : item})`;
  }

  bind(value: string | number, type: string): string {
    const name = `p${this.n++}`;
    this.values[name] = value;
    return `{${name}:${type}}`;
  }
}

/** ISO 8601 UTC with milliseconds, as every Vigil time is printed. */
export function sqlIso(expr: string): string {
  return `concat(formatDateTime(${expr}, '%Y-%m-%dT%H:%i:%S', 'UTC'), '.', leftPad(toString(toUnixTimestamp64Milli(${expr}) % 1000), 3, '0'), 'Z')`;
}

/** A successful call that returned subjects: only these expose anyone. */
export const EXPOSING = `class_uid = 6003 AND status_id = 1 AND (http_status = 0 OR http_status < 400) AND notEmpty(subject_ids)`;

/**
 * Tokens that API calls carried and the login service never issued (no Authentication event of
 * activity 3 with them), kept as a Set table per computation (and as a list, `${table}_list`,
 * until `dropForgedSetSql`): from the token ledger when it covers the store (`fromLedger`; it reads
 * the issuance rows alone, 100 M events: 0.25 s instead of 1.5 s), else by grouping every event
 * (`src/store/ledger.ts`). Beside it, a Set of the tokens' 64-bit hashes (`sqlForgedHash`): a
 * number set is probed faster than a string set.
 */
export function forgedSetSql(table: string, fromLedger: boolean): string[] {
  return [
    `CREATE TABLE ${table}_list (token_id String) ENGINE = Memory`,
    `INSERT INTO ${table}_list ${fromLedger ? neverIssuedFromLedgerSql() : neverIssuedByGroupingSql()}`,
    `CREATE TABLE ${table} (token_id String) ENGINE = Set SETTINGS persistent = 0`,
    `INSERT INTO ${table} SELECT token_id FROM ${table}_list`,
    `CREATE TABLE ${table}_h (h UInt64) ENGINE = Set SETTINGS persistent = 0`,
    `INSERT INTO ${table}_h SELECT cityHash64(token_id) FROM ${table}_list`,
  ];
}

/** Drops what `forgedSetSql` made. */
export function dropForgedSetSql(table: string): string[] {
  return [`${table}_list`, table, `${table}_h`].map((t) => `DROP TABLE IF EXISTS ${t}`);
}

/** An API call whose token the login service never issued. */
export function sqlForged(forgedTable: string): string {
  return `(class_uid = 6003 AND token_id != '' AND token_id IN ${forgedTable})`;
}

/**
 * A superset of `sqlForged` (its token's hash is a forged token's): as the first step of a
 * PREWHERE over a whole store it leaves only the forged calls (and rare collisions) for the exact
 * test, which then reads few rows (100 M events: 2.4 -> 1.4 CPU s). Only as a conjunct of its own:
 * inside an OR the engine computes both tests on every row, which costs more than the exact one.
 */
export function sqlForgedHash(forgedTable: string): string {
  return `cityHash64(token_id) IN ${forgedTable}_h`;
}

/**
 * For the scope's INSERT … SELECTs: let the engine write with as many threads as it reads (one by
 * default, which made writing a million exposure rows take twice as long as computing them).
 */
export const INSERT_SETTINGS = `SETTINGS max_insert_threads = ${Math.max(1, Math.min(8, availableParallelism()))}`;

/** Text form of an address for labels. */
export function sqlIp(d: Dialect, expr = 'src_ip'): string {
  return d.sqlIpToString(expr);
}

/** A time as DateTime64 text for inserts (an integer would be read as seconds). */
export function sqlTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}
