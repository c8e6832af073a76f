import { forgery } from './forge.ts';
import type { Scenario } from './types.ts';

/** Ordinary-looking app agents: the domestic variant blends in. */
const APP_AGENTS = [
  'ShopApp/7.4.2 (iPhone15,3; iOS 18.1; Scale/3.00)',
  'ShopApp/7.4.2 (Linux; Android 14; SM-S918N)',
  'ShopApp/7.5.0 (Linux; Android 15; SM-S928N)',
];

/**
 * The same forgery, but spread over many Korean broadband and carrier addresses with only a few
 * requests each, so nothing stands out per address or per country. A different key leaked here
 * (the web key, whose custodians are still employed; it is retired by the planned rotation partway
 * through): a second, independent attacker, so eval can score it apart from the Coupang pattern.
 */
export const forgedTokenDomestic: Scenario = {
  name: 'forged-token-domestic',
  kind: 'forged-token',
  description: 'forged customer tokens from many domestic addresses, low volume per address',
  defaults: ({ days, customers }) => {
    const startDay = Math.min(days - 1, Math.round(days * 0.3));
    const perDay = Math.max(3, customers * 0.001);
    return {
      startDay,
      durationDays: days - startDay,
      initialPerDay: perDay,
      growth: 1,
      maxPerDay: perDay,
      addresses: 60,
    };
  },
  rates: ['initialPerDay', 'maxPerDay'],
  setup: (world, params, truth, rng) =>
    forgery(
      {
        name: 'forged-token-domestic',
        networks: ['ktBroadband', 'skbBroadband', 'lguBroadband', 'sktBroadband', 'ktMobile'],
        agents: APP_AGENTS,
        pace: [3, 20],
        key: (w) => w.cast.webKeyOld,
        distinctiveAgents: false,
      },
      world,
      params,
      truth,
      rng,
    ),
};
