/**
 * Time in the simulated company. Files are per UTC day, but people live in Korean time (KST,
 * UTC+9, no daylight saving) and the roster's dates are KST calendar days.
 */
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const KST_OFFSET = 9 * HOUR;

/** Relative traffic per KST hour of day for shoppers: quiet nights, lunch bump, evening peak. */
export const SHOPPER_HOURS = [
  0.55, 0.35, 0.2, 0.12, 0.1, 0.12, 0.25, 0.5, 0.8, 0.9, 1.0, 1.1, 1.35, 1.2, 1.0, 1.0, 1.05, 1.1, 1.2, 1.45,
  1.75, 1.9, 1.6, 1.0,
];
/** Monday … Sunday (KST). Weekends shop a little more. */
export const SHOPPER_WEEKDAYS = [0.95, 0.93, 0.94, 0.96, 1.0, 1.12, 1.15];

export interface Timeline {
  /** UTC midnight of the first day. */
  startMs: number;
  days: number;
  /** Day index of the sale (several times normal traffic). */
  saleDay: number;
  /** KST midnight at which customer web tokens switch to the new signing key. */
  rotationMs: number;
}

export function parseDate(date: string): number {
  const ms = Date.parse(`${date}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(ms)) throw new Error(`bad date: ${date}`);
  return ms;
}

/** UTC calendar day of an instant, for file names. */
export function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** KST calendar day of an instant, for comparing with the roster. */
export function kstDate(ms: number): string {
  return new Date(ms + KST_OFFSET).toISOString().slice(0, 10);
}

/** UTC instant of KST midnight starting the given KST date. */
export function kstMidnight(date: string): number {
  return parseDate(date) - KST_OFFSET;
}

export function addDays(date: string, days: number): string {
  return utcDate(parseDate(date) + days * DAY);
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** 0 = Monday for the KST day containing `ms`. */
export function kstWeekday(ms: number): number {
  return (new Date(ms + KST_OFFSET).getUTCDay() + 6) % 7;
}

/** KST hour of day of an instant. */
export function kstHour(ms: number): number {
  return Math.floor(((ms + KST_OFFSET) % DAY) / HOUR);
}
