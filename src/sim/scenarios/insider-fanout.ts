import { workDay } from '../benign/staff.ts';
import { kstDate } from '../clock.ts';
import { Rng } from '../rng.ts';
import type { Person } from '../world.ts';
import { active, type Scenario } from './types.ts';

/**
 * A support agent, still employed and using their own employee token, looks up far more
 * customers than their peers, partly late at night. Their whole activity during the window
 * belongs to the scenario (the routine lookups are exposures by the same insider too).
 */
export const insiderFanout: Scenario = {
  name: 'insider-fanout',
  kind: 'insider-fanout',
  description: 'an employed support agent reads far more customers than peers, partly at night',
  defaults: ({ days }) => ({
    startDay: Math.min(days - 1, Math.round(days * 0.4)),
    durationDays: Math.max(2, Math.round(days * 0.25)),
    lookupsPerDay: 220,
    nightLookups: 60,
  }),
  rates: ['lookupsPerDay', 'nightLookups'],
  setup(world, params, truth) {
    const agent = world.people.find(
      (p: Person) =>
        p.department === 'customer-service' && p.role === 'agent' && p.country === 'KR' && p.leftOn === '',
    )!;
    truth.attacker('person', agent.id);
    for (const principal of agent.principals) truth.attacker('actor', principal);
    const { startMs } = world.timeline;
    const inWindow = (ms: number) => {
      const day = Math.floor((ms - startMs) / 86_400_000);
      return active(params, day);
    };
    return {
      pauses: (personId, ms) => personId === agent.id && inWindow(ms),
      day(ctx) {
        if (!active(params, ctx.day) || kstDate(ctx.startMs) < agent.hiredOn) return;
        const rng = Rng.derive(ctx.seed, 'insider-fanout', ctx.day);
        workDay(ctx, rng, agent, {
          lookups: rng.poisson(params.lookupsPerDay),
          nightLookups: rng.poisson(params.nightLookups),
          truth,
        });
      },
    };
  },
};
