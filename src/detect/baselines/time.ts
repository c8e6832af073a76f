/**
 * Local days and hour points. Days are calendar days in the site's time zone (a day's figures are
 * whole UTC hours merged, so zones with half-hour offsets round to the hour they start in).
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

const dayFormat = new Map<string, Intl.DateTimeFormat>();

/** 'YYYY-MM-DD' of the local day containing `ms` in `tz`. */
export function localDay(ms: number, tz: string): string {
  let f = dayFormat.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormat.set(tz, f);
  }
  return f.format(new Date(ms));
}

export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

const offsetFormat = new Map<string, Intl.DateTimeFormat>();

/** Offset of `tz` from UTC at `ms`, in ms. */
function offsetMs(ms: number, tz: string): number {
  // Building an Intl.DateTimeFormat costs far more than formatting with it: judging a day of
  // windows asks for thousands of offsets, so each zone's formatter is built once.
  let f = offsetFormat.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    offsetFormat.set(tz, f);
  }
  const parts = f.formatToParts(new Date(ms));
  const v = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const asUtc = Date.UTC(v('year'), v('month') - 1, v('day'), v('hour'), v('minute'), v('second'));
  return asUtc - Math.floor(ms / 1000) * 1000;
}

const dayStarts = new Map<string, number>();

/** Epoch ms of 00:00 local time of `day`, rounded down to a whole UTC hour. */
export function dayStartMs(day: string, tz: string): number {
  const key = `${tz}|${day}`;
  const known = dayStarts.get(key);
  if (known !== undefined) return known;
  const guess = Date.parse(`${day}T00:00:00Z`);
  let t = guess - offsetMs(guess, tz);
  t = guess - offsetMs(t, tz);
  const start = Math.floor(t / HOUR_MS) * HOUR_MS;
  dayStarts.set(key, start);
  return start;
}

/**
 * Hour boundaries at which rollup-based checks judge a range: window ends in (start, end] that fall
 * on a full hour. The finding of such a check belongs to the window that ends there.
 */
export function hourPoints(start: number, end: number, windowSeconds: number): number[] {
  const w = windowSeconds * 1000;
  const out: number[] = [];
  for (let t = Math.floor(start / HOUR_MS) * HOUR_MS + HOUR_MS; t <= end; t += HOUR_MS) {
    if (t > start && t % w === 0) out.push(t);
  }
  return out;
}
