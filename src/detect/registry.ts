import type { Detector } from './detector.ts';
import { categoryDrift } from './detectors/category-drift.ts';
import { credentialStuffing } from './detectors/credential-stuffing.ts';
import { departedIdentity } from './detectors/departed-identity.ts';
import { fanout } from './detectors/fanout.ts';
import { keyHygiene } from './detectors/key-hygiene.ts';
import { lowAndSlow } from './detectors/low-and-slow.ts';
import { newOrigin } from './detectors/new-origin.ts';
import { offHours } from './detectors/off-hours.ts';
import { unissuedToken } from './detectors/unissued-token.ts';

/**
 * Every detector the runner evaluates, by id. Adding one: write `detectors/<id>.ts` (its meta and
 * `evaluate`), `detectors/<id>.test.ts` beside it, and one line here; the sweep test
 * (`detectors/sweep.test.ts`) then holds it to the common bar. See README.md in this folder.
 */
export const detectors: readonly Detector[] = [
  unissuedToken,
  keyHygiene,
  departedIdentity,
  fanout,
  newOrigin,
  lowAndSlow,
  categoryDrift,
  offHours,
  credentialStuffing,
];

export function detectorById(id: string): Detector | undefined {
  return detectors.find((d) => d.meta.id === id);
}
