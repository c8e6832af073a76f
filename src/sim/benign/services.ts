import { OPERATIONS, type Operation } from '../catalog.ts';
import { HOUR, kstHour, kstWeekday } from '../clock.ts';
import type { DayContext } from '../context.ts';
import { fillPath } from '../paths.ts';
import { Rng } from '../rng.ts';
import { TokenSession } from '../tokens.ts';
import type { ServiceAccount, Subject } from '../world.ts';

const { GetShippingLabel, ScoreTransaction, SendOrderNotification, ExportMarketingAudience } = OPERATIONS;

/** Page size of the weekly marketing export: one request returns this many customers. */
const EXPORT_PAGE = 500;

interface Call {
  t: number;
  op: Operation;
  subjects: readonly Subject[];
  ref: string;
  /** An export page, customers [from, to) who opted in: built when emitted, not held for the day. */
  page?: { from: number; to: number };
}

const optedIn = (i: number) => (Math.imul(i + 1, 2654435761) >>> 0) % 10 < 7;

/**
 * Service accounts whose fan-out is huge by design: every order gets a fraud score, a
 * notification and a shipping label; every Monday night the mailer exports the audience.
 */
export function generateServices(ctx: DayContext): void {
  const rng = Rng.derive(ctx.seed, 'services', ctx.day);
  const [labels, marketing, fraud, notify] = ctx.world.services;
  const byService = new Map<ServiceAccount, Call[]>([
    [labels, []],
    [marketing, []],
    [fraud, []],
    [notify, []],
  ]);
  for (const o of ctx.orders) {
    byService
      .get(fraud)!
      .push({ t: o.t + rng.int(300, 2500), op: ScoreTransaction, subjects: [o.customer], ref: '' });
    byService
      .get(notify)!
      .push({ t: o.t + rng.int(4, 40) * 1000, op: SendOrderNotification, subjects: [o.customer], ref: '' });
    // Labels are printed in warehouse batches a few hours later, for whoever receives the parcel.
    byService
      .get(labels)!
      .push({ t: o.t + rng.int(30, 360) * 60_000, op: GetShippingLabel, subjects: [o.shipTo], ref: o.id });
  }
  // Monday 03:00 KST falls on the UTC day that starts on Sunday 09:00 KST.
  const exportAt = ctx.startMs + 18 * HOUR;
  if (kstWeekday(exportAt) === 0 && kstHour(exportAt) === 3) {
    const customers = ctx.world.customers;
    let t = exportAt + rng.int(0, 300) * 1000;
    let from = 0;
    let n = 0;
    for (let i = 0; i < customers.length; i++) {
      if (!optedIn(i)) continue; // opted out of marketing
      if (++n === EXPORT_PAGE) {
        byService
          .get(marketing)!
          .push({ t, op: ExportMarketingAudience, subjects: [], ref: '', page: { from, to: i + 1 } });
        from = i + 1;
        n = 0;
        t += rng.int(800, 3000);
      }
    }
    if (n > 0)
      byService.get(marketing)!.push({
        t,
        op: ExportMarketingAudience,
        subjects: [],
        ref: '',
        page: { from, to: customers.length },
      });
  }
  for (const [service, calls] of byService) {
    if (calls.length === 0) continue;
    calls.sort((a, b) => a.t - b.t);
    const key = ctx.world.cast.serviceKey.id;
    const session = new TokenSession(ctx.stream, rng, {
      user: service.principal,
      ip: service.ip,
      ua: service.ua,
      mfa: false,
      kid: () => key,
    });
    for (const c of calls) {
      let subjects = c.subjects;
      if (c.page) {
        const page: Subject[] = [];
        for (let i = c.page.from; i < c.page.to; i++)
          if (optedIn(i)) page.push(ctx.world.customers.subject(i));
        subjects = page;
      }
      ctx.stream.api({
        t: c.t,
        actor: service.principal,
        actorType: 'Service',
        token: session.at(c.t),
        ip: service.ip,
        ua: service.ua,
        op: c.op,
        path: fillPath(c.op, subjects[0]?.id ?? '', c.ref),
        subjects,
      });
    }
  }
}
