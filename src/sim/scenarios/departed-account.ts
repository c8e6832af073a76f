import { exportSegment } from '../benign/staff.ts';
import { OPERATIONS, type Operation } from '../catalog.ts';
import { DAY, HOUR, kstMidnight } from '../clock.ts';
import { addressAt, NETWORKS } from '../networks.ts';
import { fillPath } from '../paths.ts';
import { Rng } from '../rng.ts';
import { TokenSession } from '../tokens.ts';
import type { Subject } from '../world.ts';
import { active, type Scenario } from './types.ts';

const { GetCustomerProfile } = OPERATIONS;

/**
 * A marketing analyst leaves during the period, but the account is never disabled: a few days
 * later it signs in from a home line and pulls customer segments and profiles.
 */
export const departedAccount: Scenario = {
  name: 'departed-account',
  kind: 'departed-identity',
  description: 'a departed employee’s account still used after left_on',
  defaults: ({ days }) => ({
    // Days after the analyst's departure (left_on is 35% into the period).
    delayDays: 2,
    durationDays: Math.max(2, Math.round(days * 0.1)),
    pagesPerDay: 8,
    lookupsPerDay: 25,
  }),
  rates: ['pagesPerDay', 'lookupsPerDay'],
  setup(world, params, truth, rng) {
    const person = world.cast.leaverMidPeriod;
    const leftDay = Math.round((kstMidnight(person.leftOn) - world.timeline.startMs) / DAY);
    const window = { startDay: leftDay + params.delayDays, durationDays: params.durationDays };
    params.startDay = window.startDay;
    const user = person.principals[0];
    const ip = addressAt(NETWORKS.ktBroadband, rng.next());
    truth.attacker('person', person.id);
    truth.attacker('actor', user);
    truth.attacker('ip', ip);
    return {
      day(ctx) {
        if (!active(window, ctx.day)) return;
        const drng = Rng.derive(ctx.seed, 'departed-account', ctx.day);
        const holder = { user, ip, ua: person.ua, mfa: false, kid: () => world.cast.employeeKey.id };
        const session = new TokenSession(ctx.stream, drng, holder, truth);
        // Evenings, KST: 20:00–23:00.
        let t = ctx.startMs + 11 * HOUR + drng.int(0, 120) * 60_000;
        session.logon(t);
        const api = (s: TokenSession, at: number, op: Operation, subjects: readonly Subject[], ref = '') => {
          const tok = s.at(at);
          ctx.stream.api(
            {
              t: at,
              actor: user,
              actorType: 'Employee',
              token: tok,
              ip,
              ua: person.ua,
              op,
              path: fillPath(op, subjects[0]?.id ?? user, ref),
              subjects,
            },
            truth,
          );
        };
        t += 5 * 60_000;
        const pages = drng.poisson(params.pagesPerDay);
        exportSegment(ctx, drng, session, t, api, pages);
        t += pages * 9000 + 60_000;
        const customers = ctx.world.customers;
        for (let i = drng.poisson(params.lookupsPerDay); i > 0; i--) {
          t += drng.int(20, 200) * 1000;
          api(session, t, GetCustomerProfile, [customers.subject(drng.int(0, customers.length - 1))]);
        }
      },
    };
  },
};
