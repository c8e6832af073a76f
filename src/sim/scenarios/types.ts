import type { DayContext } from '../context.ts';
import type { Rng } from '../rng.ts';
import type { ScenarioTruth } from '../truth.ts';
import type { World } from '../world.ts';

export type Params = Record<string, number>;

/**
 * An attack the simulator can hide in the traffic. `defaults` sizes it to the run; `rates`
 * names the parameters that --intensity multiplies. `setup` returns what runs each day.
 */
export interface Scenario {
  name: string;
  kind: string;
  description: string;
  defaults(run: { days: number; customers: number }): Params;
  rates: readonly string[];
  setup(world: World, params: Params, truth: ScenarioTruth, rng: Rng): ScenarioRun;
}

export interface ScenarioRun {
  day(ctx: DayContext): void;
  /** People whose normal work this scenario has taken over at `ms`. */
  pauses?(personId: string, ms: number): boolean;
}

/** Day index range [start, end) helper: is `day` inside the attack? */
export function active(params: Params, day: number): boolean {
  return day >= params.startDay && day < params.startDay + params.durationDays;
}
