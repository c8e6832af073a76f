import type { DetectContext } from './detector.ts';

/**
 * Small helpers shared by the runner and the detectors: event-time values as the engine binds
 * them, lists bound as JSON (chDB cannot bind an array element with a quote), window arithmetic.
 */

/** `YYYY-MM-DD hh:mm:ss.mmm` in UTC, the text a `DateTime64(3, 'UTC')` parameter takes. */
export function sqlTime(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

/** A time the engine returned (`YYYY-MM-DD hh:mm:ss[.mmm]`, UTC) as a Date. */
export function parseSqlTime(s: string): Date {
  return new Date(`${s.replace(' ', 'T')}Z`);
}

/** ISO 8601 UTC with seconds, as findings and incidents show times. */
export function isoTime(s: string | Date): string {
  const d = typeof s === 'string' ? parseSqlTime(s) : s;
  return d.toISOString().replace('.000Z', 'Z');
}

/** A list bound as one JSON string; use `sqlJsonList('name')` in the query. */
export function jsonList(values: readonly string[]): string {
  return JSON.stringify(values);
}

export function sqlJsonList(param: string): string {
  return `JSONExtract({${param}:String}, 'Array(String)')`;
}

/** Start of the window containing `ms` (windows are aligned to the epoch, as the engine aligns them). */
export function alignDown(ms: number, windowSeconds: number): number {
  const w = windowSeconds * 1000;
  return Math.floor(ms / w) * w;
}

/** A numeric parameter; a wrong type in site settings is a configuration error worth naming. */
export function numParam(ctx: Pick<DetectContext, 'params'>, name: string): number {
  const v = ctx.params[name];
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n))
    throw new Error(`detector parameter ${name} must be a number`);
  return n;
}
