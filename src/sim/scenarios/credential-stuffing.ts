import { desktopAgent } from '../agents.ts';
import { OPERATIONS, type Operation } from '../catalog.ts';
import { HOUR } from '../clock.ts';
import { addressAt, HOSTING, NETWORKS } from '../networks.ts';
import { fillPath } from '../paths.ts';
import { Rng } from '../rng.ts';
import { TokenSession } from '../tokens.ts';
import type { Subject } from '../world.ts';
import { active, type Scenario } from './types.ts';

const { GetProfile, GetShippingAddresses, GetPaymentMethods, GetRecentOrders, UpdateProfile } = OPERATIONS;

/**
 * Leaked passwords from elsewhere tried against many accounts from rented servers. Most fail;
 * the few that work get real, properly issued tokens, and the taken-over accounts are read.
 */
export const credentialStuffing: Scenario = {
  name: 'credential-stuffing',
  kind: 'account-takeover',
  description: 'failed logins across many accounts from hosting addresses, some succeed, then reads',
  defaults: ({ days, customers }) => ({
    startDay: Math.min(days - 1, Math.round(days * 0.7)),
    durationDays: Math.min(2, days),
    attemptsPerDay: Math.max(300, Math.round(customers * 0.2)),
    successRate: 0.012,
    addresses: 30,
  }),
  rates: ['attemptsPerDay'],
  setup(_world, params, truth, rng) {
    const origins: { ip: string; ua: string }[] = [];
    for (let i = 0; i < params.addresses; i++) {
      const network = NETWORKS[HOSTING[i % HOSTING.length]];
      const ip = addressAt(network, rng.next());
      const ua = desktopAgent(rng);
      origins.push({ ip, ua: JSON.stringify(ua) });
      truth.attacker('ip', ip);
    }
    return {
      day(ctx) {
        if (!active(params, ctx.day)) return;
        const drng = Rng.derive(ctx.seed, 'credential-stuffing', ctx.day);
        const customers = ctx.world.customers;
        const attempts = drng.poisson(params.attemptsPerDay);
        const { cast, timeline } = ctx.world;
        const kid = (t: number) => (t >= timeline.rotationMs ? cast.webKeyNew.id : cast.webKeyOld.id);
        // Bursts through the day, spread over the pool so per-address rates stay moderate.
        for (let a = 0; a < attempts; a++) {
          const t = ctx.startMs + drng.int(0, 24 * HOUR - 1);
          const origin = origins[drng.int(0, origins.length - 1)];
          // Leaked lists hold many addresses that never had an account here.
          const known = drng.chance(0.8);
          const victim = known ? customers.at(drng.int(0, customers.length - 1)) : null;
          const user = victim ? victim.subject.id : `c-9${String(drng.int(0, 9_999_999)).padStart(7, '0')}`;
          const auth = { t, user, ip: origin.ip, ua: origin.ua, mfa: false, token: null };
          if (!victim || !drng.chance(params.successRate)) {
            ctx.stream.auth({ ...auth, activity: 1, failed: true }, truth);
            continue;
          }
          const session = new TokenSession(
            ctx.stream,
            drng,
            { user, ip: origin.ip, ua: origin.ua, mfa: false, kid },
            truth,
          );
          let at = t;
          const token = session.logon(at);
          at = token.iat + drng.int(20, 180) * 1000;
          const call = (op: Operation, subjects: readonly Subject[]) => {
            ctx.stream.api(
              {
                t: at,
                actor: user,
                actorType: 'Customer',
                token: session.at(at),
                ip: origin.ip,
                ua: origin.ua,
                op,
                path: fillPath(op, user),
                subjects,
              },
              truth,
            );
            at += drng.int(2, 25) * 1000;
          };
          call(GetProfile, [victim.subject]);
          call(GetShippingAddresses, victim.book);
          call(GetPaymentMethods, [victim.subject]);
          if (drng.chance(0.6)) call(GetRecentOrders, [victim.subject]);
          if (drng.chance(0.2)) call(UpdateProfile, [victim.subject]);
          for (const tok of session.issued) truth.attacker('token', tok.uid);
        }
      },
    };
  },
};
