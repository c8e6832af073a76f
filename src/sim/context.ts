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
import type { World } from './world.ts';

/**
 * Orders placed today, for the services that process them, packed in typed arrays (24 bytes an
 * order): a large shop places millions a day, and as objects they were most of a day's heap.
 */
export class Orders {
  length = 0;
  /** When each was placed. */
  t = new Float64Array(1024);
  /** The order number (`o-<number>`). */
  number = new Uint32Array(1024);
  /** The ordering customer's index. */
  customer = new Uint32Array(1024);
  /** Recipient number the parcel goes to, or -1: the customer. */
  shipTo = new Int32Array(1024);

  add(t: number, number: number, customer: number, shipTo: number): void {
    if (this.length === this.t.length) this.grow();
    const k = this.length++;
    this.t[k] = t;
    this.number[k] = number;
    this.customer[k] = customer;
    this.shipTo[k] = shipTo;
  }

  private grow(): void {
    const n = this.t.length * 2;
    const t = new Float64Array(n);
    const number = new Uint32Array(n);
    const customer = new Uint32Array(n);
    const shipTo = new Int32Array(n);
    t.set(this.t);
    number.set(this.number);
    customer.set(this.customer);
    shipTo.set(this.shipTo);
    Object.assign(this, { t, number, customer, shipTo });
  }
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
  orders: Orders;
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
    orders: new Orders(),
    shopperHours: hours,
    shopperHoursCum: cumulative([...hours]),
    shopperMass: sum / 24 / 0.9,
    isSaleDay,
  };
}
