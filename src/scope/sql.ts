import type { Dialect, Params } from '../store/index.ts';

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

/** Tokens the login service issued (Authentication, activity 3), kept as a Set table per computation. */
export function issuedSetSql(table: string): string[] {
  return [
    `CREATE TABLE ${table} (token_id String) ENGINE = Set SETTINGS persistent = 0`,
    `INSERT INTO ${table} SELECT token_id FROM events WHERE class_uid = 3002 AND activity_id = 3 AND token_id != ''`,
  ];
}

/** An API call whose token the login service never issued. */
export function sqlForged(issuedTable: string): string {
  return `(class_uid = 6003 AND token_id != '' AND token_id NOT IN ${issuedTable})`;
}

/** Text form of an address for labels. */
export function sqlIp(d: Dialect, expr = 'src_ip'): string {
  return d.sqlIpToString(expr);
}

/** A time as DateTime64 text for inserts (an integer would be read as seconds). */
export function sqlTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}
