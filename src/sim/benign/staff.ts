import { OPERATIONS, type Operation } from '../catalog.ts';
import { HOUR, kstWeekday } from '../clock.ts';
import type { DayContext } from '../context.ts';
import { addressAt, NETWORKS } from '../networks.ts';
import { fillPath } from '../paths.ts';
import { Rng } from '../rng.ts';
import { TokenSession } from '../tokens.ts';
import type { ScenarioTruth } from '../truth.ts';
import { employedAt, type Person, type Subject } from '../world.ts';
import { orderRef } from './customers.ts';

const {
  SearchCustomers,
  GetCustomerProfile,
  GetCustomerOrders,
  GetCustomerAddresses,
  AddCustomerNote,
  ExportCustomerSegment,
  GetSalesReport,
  GetServiceHealth,
  ListDeployments,
  QueryMetrics,
} = OPERATIONS;

/** Customer lookups per support agent per normal day. */
export const CS_LOOKUPS_PER_DAY = 45;

/** Employees at work: office hours in KST (Vietnam team: their local office hours). */
export function generateStaff(ctx: DayContext): void {
  const rng = Rng.derive(ctx.seed, 'staff', ctx.day);
  for (const person of ctx.world.people) {
    // Each person's day starts in the morning of their own time zone.
    const localMorning = ctx.startMs + (person.country === 'VN' ? 2 : 0) * HOUR;
    if (!employedAt(person, localMorning) || ctx.paused(person.id, localMorning)) continue;
    const weekend = kstWeekday(localMorning) >= 5;
    const support = person.department === 'customer-service';
    if (weekend && !(support && rng.chance(0.25))) continue;
    if (rng.chance(0.06)) continue; // leave, sick days
    workDay(ctx, rng, person, {});
  }
}

export interface WorkOptions {
  /** Customer lookups today (support agents); default from role and sale day. */
  lookups?: number;
  /** Extra lookups done late at night from home. */
  nightLookups?: number;
  truth?: ScenarioTruth;
  /** Use this address for everything (e.g. an account used by someone else). */
  ip?: string;
}

export function workDay(ctx: DayContext, rng: Rng, person: Person, opts: WorkOptions): void {
  const { cast } = ctx.world;
  // UTC 00:00 is 09:00 KST; the Vietnam office starts two hours later in KST terms.
  const begin = ctx.startMs + (person.country === 'VN' ? 2 * HOUR : 0) + rng.int(-40, 50) * 60_000;
  const end = begin + rng.int(8, 10) * HOUR;
  const trip = person.trip && begin >= person.trip.fromMs && begin < person.trip.toMs ? person.trip : null;
  const fromHome = !trip && person.country === 'KR' && rng.chance(0.25);
  const ip = opts.ip ?? (trip ? trip.ip : fromHome ? addressAt(NETWORKS.vpn, rng.next()) : person.ip);
  const user = person.principals[person.principals.length > 1 && rng.chance(0.2) ? 1 : 0];
  const holder = { user, ip, ua: person.ua, mfa: true, kid: () => cast.employeeKey.id };
  const times: number[] = [];
  const actions: ((t: number, s: TokenSession) => void)[] = [];
  const at = (t: number, action: (t: number, s: TokenSession) => void) => {
    times.push(t);
    actions.push(action);
  };
  const during = () => begin + rng.int(20, Math.floor((end - begin) / 60_000)) * 60_000;
  const api = (s: TokenSession, t: number, op: Operation, subjects: readonly Subject[], ref = '') => {
    const id = subjects[0]?.id ?? user;
    ctx.stream.api(
      {
        t,
        actor: user,
        actorType: 'Employee',
        token: s.at(t),
        ip: s.holder.ip,
        ua: s.holder.ua,
        op,
        path: fillPath(op, id, ref),
        subjects,
      },
      opts.truth,
    );
  };
  const customers = ctx.world.customers;
  const lookup = (t: number, s: TokenSession) => {
    const c = customers.at(rng.int(0, customers.length - 1));
    const hits: Subject[] = [c.subject];
    const more = rng.int(0, 2);
    for (let k = 0; k < more; k++) hits.push(customers.subject(rng.int(0, customers.length - 1)));
    api(s, t, SearchCustomers, hits);
    api(s, t + rng.int(3, 30) * 1000, GetCustomerProfile, [c.subject]);
    if (rng.chance(0.5)) api(s, t + rng.int(30, 90) * 1000, GetCustomerOrders, [c.subject]);
    if (rng.chance(0.2)) api(s, t + rng.int(90, 150) * 1000, GetCustomerAddresses, c.book);
    if (rng.chance(0.15)) api(s, t + rng.int(150, 240) * 1000, AddCustomerNote, []);
  };
  switch (person.department) {
    case 'customer-service': {
      const base =
        CS_LOOKUPS_PER_DAY * (person.role === 'team-lead' ? 0.4 : 1) * (ctx.isSaleDay(begin) ? 2 : 1);
      const n = opts.lookups ?? rng.poisson(base);
      for (let i = 0; i < n; i++) at(during(), lookup);
      break;
    }
    case 'engineering': {
      const n = rng.int(10, 40);
      for (let i = 0; i < n; i++) {
        const op = rng.pick([GetServiceHealth, ListDeployments, QueryMetrics]);
        at(during(), (t, s) => api(s, t, op, []));
      }
      // Debugging a customer's problem now and then.
      if (rng.chance(0.12)) at(during(), lookup);
      break;
    }
    case 'marketing': {
      for (let i = rng.int(1, 4); i > 0; i--) at(during(), (t, s) => api(s, t, GetSalesReport, []));
      if (rng.chance(0.15)) at(during(), (t, s) => exportSegment(ctx, rng, s, t, api));
      break;
    }
    case 'logistics': {
      for (let i = rng.int(2, 8); i > 0; i--) {
        at(during(), (t, s) => {
          const c = customers.at(rng.int(0, customers.length - 1));
          api(s, t, GetCustomerAddresses, c.book, orderRef(rng));
        });
      }
      break;
    }
    default: {
      for (let i = rng.int(2, 10); i > 0; i--)
        at(during(), (t, s) => api(s, t, rng.pick([GetSalesReport, QueryMetrics]), []));
    }
  }
  const night = opts.nightLookups ?? 0;
  for (let i = 0; i < night; i++) at(begin + rng.int(13 * 60, 17 * 60) * 60_000, lookup);
  if (times.length === 0) return;
  const order = times.map((_, i) => i).sort((a, b) => times[a] - times[b]);
  const session = new TokenSession(ctx.stream, rng, holder, opts.truth);
  session.logon(times[order[0]] - rng.int(60, 600) * 1000);
  for (const i of order) actions[i](times[i], session);
}

/** A marketing analyst pulls a campaign segment: a few pages of customers (legitimate bulk read). */
export function exportSegment(
  ctx: DayContext,
  rng: Rng,
  s: TokenSession,
  t: number,
  api: (s: TokenSession, t: number, op: Operation, subjects: readonly Subject[], ref?: string) => void,
  pages = rng.int(1, 4),
): void {
  const customers = ctx.world.customers;
  const segment = `seg-${rng.int(100, 999)}`;
  let start = rng.int(0, customers.length - 1);
  for (let p = 0; p < pages; p++) {
    const page: Subject[] = [];
    for (let k = 0; k < 200 && start < customers.length; k++, start += rng.int(1, 6))
      page.push(customers.subject(start));
    if (page.length === 0) break;
    api(s, t + p * rng.int(2, 8) * 1000, ExportCustomerSegment, page, segment);
  }
}
