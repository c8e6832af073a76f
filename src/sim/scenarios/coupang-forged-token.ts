import { CRAWLER_AGENTS } from '../agents.ts';
import { forgery } from './forge.ts';
import type { Scenario } from './types.ts';

/**
 * The Coupang breach: a departed authentication engineer still holds a never-rotated signing
 * key, mints customer tokens the login service never issued, and crawls "Edit My Info", the
 * delivery-address list and recent orders from a handful of overseas servers, slowly ramping up.
 */
export const coupangForgedToken: Scenario = {
  name: 'coupang-forged-token',
  kind: 'forged-token',
  description: 'forged customer tokens from a departed engineer’s key, overseas hosting, slow ramp',
  defaults: ({ days, customers }) => {
    const startDay = Math.min(days - 1, Math.round(days * 0.15));
    return {
      startDay,
      durationDays: days - startDay,
      initialPerDay: Math.max(2, customers * 0.00015),
      growth: 1.18,
      maxPerDay: Math.max(10, customers * 0.02),
      addresses: 5,
    };
  },
  rates: ['initialPerDay', 'maxPerDay'],
  setup: (world, params, truth, rng) =>
    forgery(
      {
        name: 'coupang-forged-token',
        networks: ['awsTokyo', 'alibaba', 'vultr', 'digitalOcean', 'hetzner'],
        agents: CRAWLER_AGENTS,
        pace: [1, 4],
        key: (w) => w.cast.appKey,
        insider: (w) => w.cast.departedAuthEngineer,
        distinctiveAgents: true,
      },
      world,
      params,
      truth,
      rng,
    ),
};
