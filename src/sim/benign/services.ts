import { OPERATIONS, type Operation } from '../catalog.ts';
import { HOUR, kstHour, kstWeekday } from '../clock.ts';
import type { DayContext } from '../context.ts';
import { timeOrder } from '../order.ts';
import { fillPath } from '../paths.ts';
import { Rng } from '../rng.ts';
import { TokenSession } from '../tokens.ts';
import type { ServiceAccount, Subject } from '../world.ts';
import { orderId } from './customers.ts';

const { GetShippingLabel, ScoreTransaction, SendOrderNotification, ExportMarketingAudience } = OPERATIONS;

/** Page size of the weekly marketing export: one request returns this many customers. */
const EXPORT_PAGE = 500;

/** A weekly export page: customers [from, to) who opted in, built when emitted. */
interface Page {
  t: number;
  from: number;
  to: number;
}

const optedIn = (i: number) => (Math.imul(i + 1, 2654435761) >>> 0) % 10 < 7;

/**
 * Service accounts whose fan-out is huge by design: every order gets a fraud score, a
 * notification and a shipping label; every Monday night the mailer exports the audience.
 * A day's calls are times in typed arrays, one per order and service (a large shop has millions
 * of orders a day), turned into events one at a time in each service's time order.
 */
export function generateServices(ctx: DayContext): void {
  const rng = Rng.derive(ctx.seed, 'services', ctx.day);
  const [labels, marketing, fraud, notify] = ctx.world.services;
  const { orders, world } = ctx;
  const n = orders.length;
  const scoredAt = new Float64Array(n);
  const notifiedAt = new Float64Array(n);
  const labelledAt = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const placed = orders.t[k];
    scoredAt[k] = placed + rng.int(300, 2500);
    notifiedAt[k] = placed + rng.int(4, 40) * 1000;
    // Labels are printed in warehouse batches a few hours later, for whoever receives the parcel.
    labelledAt[k] = placed + rng.int(30, 360) * 60_000;
  }
  const pages: Page[] = [];
  // Monday 03:00 KST falls on the UTC day that starts on Sunday 09:00 KST.
  const exportAt = ctx.startMs + 18 * HOUR;
  if (kstWeekday(exportAt) === 0 && kstHour(exportAt) === 3) {
    const customers = world.customers;
    let t = exportAt + rng.int(0, 300) * 1000;
    let from = 0;
    let count = 0;
    for (let i = 0; i < customers.length; i++) {
      if (!optedIn(i)) continue; // opted out of marketing
      if (++count === EXPORT_PAGE) {
        pages.push({ t, from, to: i + 1 });
        from = i + 1;
        count = 0;
        t += rng.int(800, 3000);
      }
    }
    if (count > 0) pages.push({ t, from, to: customers.length });
  }
  const customer = (k: number) => world.customers.subject(orders.customer[k]);
  const shipTo = (k: number) => {
    const r = orders.shipTo[k];
    return r < 0 ? customer(k) : world.customers.recipient(r);
  };
  const emit = (service: ServiceAccount, times: Float64Array, call: (k: number, t: number) => Call) => {
    if (times.length === 0) return;
    const key = world.cast.serviceKey.id;
    const session = new TokenSession(ctx.stream, rng, {
      user: service.principal,
      ip: service.ip,
      ua: service.ua,
      mfa: false,
      kid: () => key,
    });
    const order = timeOrder(times);
    for (let j = 0; j < order.length; j++) {
      const k = order[j];
      const t = times[k];
      const { op, subjects, ref } = call(k, t);
      ctx.stream.api({
        t,
        actor: service.principal,
        actorType: 'Service',
        token: session.at(t),
        ip: service.ip,
        ua: service.ua,
        op,
        path: fillPath(op, subjects[0]?.id ?? '', ref),
        subjects,
      });
    }
  };
  emit(labels, labelledAt, (k) => ({
    op: GetShippingLabel,
    subjects: [shipTo(k)],
    ref: orderId(orders.number[k]),
  }));
  emit(
    marketing,
    Float64Array.from(pages, (p) => p.t),
    (k) => {
      const subjects: Subject[] = [];
      for (let i = pages[k].from; i < pages[k].to; i++)
        if (optedIn(i)) subjects.push(world.customers.subject(i));
      return { op: ExportMarketingAudience, subjects, ref: '' };
    },
  );
  emit(fraud, scoredAt, (k) => ({ op: ScoreTransaction, subjects: [customer(k)], ref: '' }));
  emit(notify, notifiedAt, (k) => ({ op: SendOrderNotification, subjects: [customer(k)], ref: '' }));
}

interface Call {
  op: Operation;
  subjects: readonly Subject[];
  ref: string;
}
