import { OPERATIONS } from '../catalog.ts';
import { HOUR } from '../clock.ts';
import { addressAt, HOSTING, NETWORKS } from '../networks.ts';
import { fillPath } from '../paths.ts';
import { Rng } from '../rng.ts';
import { TokenSession } from '../tokens.ts';
import type { Subject } from '../world.ts';
import { active, type Scenario } from './types.ts';

const { ExportMarketingAudience, GetCustomerAddresses } = OPERATIONS;
const AGENT = 'curl/8.5.0';

/**
 * The marketing exporter's client secret leaks. Someone obtains tokens for it from a foreign
 * hosting provider (issued normally: the credential is genuine) and pages through customers,
 * reading address books too, which the real exporter never does.
 */
export const serviceCredentialNewOrigin: Scenario = {
  name: 'service-credential-new-origin',
  kind: 'new-origin',
  description: 'a service account’s credential used from a foreign hosting ASN to read customers',
  defaults: ({ days }) => ({
    startDay: Math.min(days - 1, Math.round(days * 0.6)),
    durationDays: 1,
    hours: 5,
    requestsPerHour: 40,
    pageSize: 50,
    addresses: 2,
  }),
  rates: ['requestsPerHour'],
  setup(world, params, truth, rng) {
    const service = world.services.find((s) => s.principal === 'svc-marketing-export')!;
    const ips: string[] = [];
    for (let i = 0; i < params.addresses; i++) {
      const network = NETWORKS[HOSTING[(i + 2) % HOSTING.length]];
      const ip = addressAt(network, rng.next());
      ips.push(ip);
      truth.attacker('ip', ip);
    }
    truth.attacker('actor', service.principal);
    truth.attacker('user_agent', AGENT);
    const ua = JSON.stringify(AGENT);
    return {
      day(ctx) {
        if (!active(params, ctx.day)) return;
        const drng = Rng.derive(ctx.seed, 'service-credential-new-origin', ctx.day);
        const customers = ctx.world.customers;
        // Starts in the KST small hours, when nobody watches.
        let t = ctx.startMs + 17 * HOUR + drng.int(0, 60) * 60_000;
        const end = t + params.hours * HOUR;
        const gap = HOUR / Math.max(0.1, params.requestsPerHour);
        const sessions = ips.map(
          (ip) =>
            new TokenSession(
              ctx.stream,
              drng,
              { user: service.principal, ip, ua, mfa: false, kid: () => world.cast.serviceKey.id },
              truth,
            ),
        );
        let cursor = drng.int(0, customers.length - 1);
        for (let n = 0; t < end; n++, t += drng.int(Math.floor(gap * 0.5), Math.ceil(gap * 1.5))) {
          const session = sessions[n % sessions.length];
          const token = session.at(t);
          const ip = session.holder.ip;
          if (drng.chance(0.8)) {
            const page: Subject[] = [];
            for (let k = 0; k < params.pageSize; k++, cursor = (cursor + 1) % customers.length) {
              page.push(customers.subject(cursor));
            }
            ctx.stream.api(
              {
                t,
                actor: service.principal,
                actorType: 'Service',
                token,
                ip,
                ua,
                op: ExportMarketingAudience,
                path: ExportMarketingAudience.path,
                subjects: page,
              },
              truth,
            );
          } else {
            const book = customers.at(drng.int(0, customers.length - 1)).book;
            ctx.stream.api(
              {
                t,
                actor: service.principal,
                actorType: 'Service',
                token,
                ip,
                ua,
                op: GetCustomerAddresses,
                path: fillPath(GetCustomerAddresses, book[0].id),
                subjects: book,
              },
              truth,
            );
          }
        }
        for (const s of sessions) for (const tok of s.issued) truth.attacker('token', tok.uid);
      },
    };
  },
};
