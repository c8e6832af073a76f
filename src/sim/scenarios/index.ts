import { coupangForgedToken } from './coupang-forged-token.ts';
import { credentialStuffing } from './credential-stuffing.ts';
import { departedAccount } from './departed-account.ts';
import { forgedTokenDomestic } from './forged-token-domestic.ts';
import { insiderFanout } from './insider-fanout.ts';
import { serviceCredentialNewOrigin } from './service-credential-new-origin.ts';
import type { Scenario } from './types.ts';

export type { Params, Scenario, ScenarioRun } from './types.ts';

/** Every attack the simulator knows, by name. Adding one: see src/sim/README.md. */
export const SCENARIOS: readonly Scenario[] = [
  coupangForgedToken,
  forgedTokenDomestic,
  insiderFanout,
  departedAccount,
  serviceCredentialNewOrigin,
  credentialStuffing,
];

export function scenarioByName(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
