import {
  DAY,
  HOUR,
  kstHour,
  kstMidnight,
  kstWeekday,
  SHOPPER_HOURS,
  SHOPPER_WEEKDAYS,
  utcDate,
} from './clock.ts';
import { cumulative } from './rng.ts';
import type { EventStream } from './stream.ts';
import type { Subject, World } from './world.ts';

export interface Order {
  t: number;
  id: string;
  customer: Subject;
  shipTo: Subject;
}

/**
 * What a generator sees for one UTC day. Generators emit into `stream`; events may fall after
 * `endMs` (they are carried to the next day).
 */
export interface DayContext {
  seed: number;
  day: number;
  startMs: number;
  endMs: number;
  world: World;
  stream: EventStream;
  /** Orders placed today, for the services that process them. */
  orders: Order[];
  /** Shopper traffic multiplier per UTC hour of this day (KST rhythm, weekday, sale). */
  shopperHours: Float64Array;
  shopperHoursCum: Float64Array;
  /** Mean of shopperHours: today's traffic relative to an average day. */
  shopperMass: number;
  isSaleDay: (ms: number) => boolean;
  /** People whose activity a scenario has taken over at `ms` (the benign generator skips them). */
  paused: (personId: string, ms: number) => boolean;
}

export const SALE_FACTOR = 3.5;

export function dayContext(
  base: Pick<DayContext, 'seed' | 'world' | 'stream' | 'paused'>,
  day: number,
): DayContext {
  const { timeline } = base.world;
  const startMs = timeline.startMs + day * DAY;
  const saleDate = utcDate(timeline.startMs + timeline.saleDay * DAY);
  const saleStart = kstMidnight(saleDate);
  const isSaleDay = (ms: number) => ms >= saleStart && ms < saleStart + DAY;
  const hours = new Float64Array(24);
  let sum = 0;
  for (let h = 0; h < 24; h++) {
    const t = startMs + h * HOUR;
    let w = SHOPPER_HOURS[kstHour(t)] * SHOPPER_WEEKDAYS[kstWeekday(t)];
    // The sale opens at 10:00 KST with a rush; the whole day runs hot.
    if (isSaleDay(t)) w *= kstHour(t) === 10 ? SALE_FACTOR * 2 : SALE_FACTOR;
    hours[h] = w;
    sum += w;
  }
  return {
    ...base,
    day,
    startMs,
    endMs: startMs + DAY,
    orders: [],
    shopperHours: hours,
    shopperHoursCum: cumulative([...hours]),
    shopperMass: sum / 24 / 0.9,
    isSaleDay,
  };
}
