import { OPERATIONS, type Operation } from '../catalog.ts';
import { HOUR } from '../clock.ts';
import type { DayContext } from '../context.ts';
import { addressAt, NETWORKS, type NetworkName } from '../networks.ts';
import { fillPath } from '../paths.ts';
import { Rng } from '../rng.ts';
import { newToken } from '../tokens.ts';
import type { ScenarioTruth } from '../truth.ts';
import type { Customer, Person, SigningKey, Subject, World } from '../world.ts';
import type { Params, ScenarioRun } from './types.ts';

const { GetProfile, GetShippingAddresses, GetRecentOrders, GetDeliveryInstructions } = OPERATIONS;

export interface ForgeryConfig {
  name: string;
  /** Networks the attacker's addresses are drawn from, round-robin. */
  networks: readonly NetworkName[];
  /** User agents the tooling sends (one per address). */
  agents: readonly string[];
  /** Seconds between the calls for one victim. */
  pace: [number, number];
  /** The leaked signing key. */
  key: (world: World) => SigningKey;
  /** The insider who leaked it, when the story has one. */
  insider?: (world: World) => Person;
  /** Whether the user agents are the attacker's own tooling (not ones real customers send too). */
  distinctiveAgents: boolean;
}

/**
 * Token forgery with a leaked signing key: for each victim the attacker mints a token the login
 * service never issued (so no Authentication event exists for it), then walks the ordinary
 * customer pages as that victim. Victims per day start at `initialPerDay` and grow by `growth`
 * a day up to `maxPerDay`.
 */
export function forgery(
  config: ForgeryConfig,
  world: World,
  params: Params,
  truth: ScenarioTruth,
  rng: Rng,
): ScenarioRun {
  const key = config.key(world);
  truth.attacker('key', key.id);
  if (config.insider) truth.attacker('person', config.insider(world).id);
  const origins: { ip: string; ua: string }[] = [];
  for (let i = 0; i < params.addresses; i++) {
    const network = NETWORKS[config.networks[i % config.networks.length]];
    const ip = addressAt(network, rng.next());
    const ua = config.agents[i % config.agents.length];
    origins.push({ ip, ua: JSON.stringify(ua) });
    // Attacker entities are what the attacker alone controls: its addresses and tooling, not the
    // ASNs or app user agents it shares with real customers.
    truth.attacker('ip', ip);
    if (config.distinctiveAgents) truth.attacker('user_agent', ua);
  }
  // Victims so far, one bit per customer: a Set cost ~30 bytes a victim.
  const taken = new Uint32Array(Math.ceil(world.customers.length / 32));
  let takenCount = 0;
  const isTaken = (i: number) => (taken[i >>> 5] & (1 << (i & 31))) !== 0;
  return {
    day(ctx: DayContext) {
      const d = ctx.day - params.startDay;
      if (d < 0 || d >= params.durationDays) return;
      const drng = Rng.derive(ctx.seed, config.name, ctx.day);
      const mean = Math.min(params.maxPerDay, params.initialPerDay * params.growth ** d);
      const victims = drng.poisson(mean);
      const customers = ctx.world.customers;
      for (let v = 0; v < victims && takenCount < customers.length; v++) {
        let i = drng.int(0, customers.length - 1);
        while (isTaken(i)) i = (i + 1) % customers.length;
        taken[i >>> 5] |= 1 << (i & 31);
        takenCount++;
        const t = ctx.startMs + drng.int(0, 24 * HOUR - 1);
        visit(ctx, drng, config, customers.at(i), drng.pick(origins), key.id, t, truth);
      }
    },
  };
}

function visit(
  ctx: DayContext,
  rng: Rng,
  config: ForgeryConfig,
  victim: Customer,
  origin: { ip: string; ua: string },
  kid: string,
  start: number,
  truth: ScenarioTruth,
): void {
  const token = newToken(rng, kid, start - rng.int(1, 30) * 1000);
  truth.attacker('token', token.uid);
  const id = victim.subject.id;
  let t = start;
  const call = (op: Operation, subjects: readonly Subject[], ref = '') => {
    // The gateway now and then rate-limits the crawler: a failure returns nothing.
    const limited = rng.chance(0.02);
    ctx.stream.api(
      {
        t,
        actor: id,
        actorType: 'Customer',
        token,
        ip: origin.ip,
        ua: origin.ua,
        op,
        path: fillPath(op, id, ref),
        subjects,
        failed: limited,
        code: limited ? 429 : 200,
      },
      truth,
    );
    t += rng.int(config.pace[0], config.pace[1]) * 1000;
  };
  call(GetProfile, [victim.subject]);
  call(GetShippingAddresses, victim.book);
  if (rng.chance(0.5)) call(GetRecentOrders, [victim.subject]);
  for (const s of victim.doorCodes)
    if (rng.chance(0.6)) call(GetDeliveryInstructions, [s], `a-${rng.int(100_000, 999_999)}`);
}
