import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateCustomers } from './benign/customers.ts';
import { generateServices } from './benign/services.ts';
import { generateStaff } from './benign/staff.ts';
import { catalogYaml } from './catalog.ts';
import { DAY, iso, kstMidnight, parseDate, type Timeline, utcDate } from './clock.ts';
import { dayContext } from './context.ts';
import { keysCsv, peopleCsv, servicesCsv } from './reference.ts';
import { Rng } from './rng.ts';
import { type Params, type ScenarioRun, scenarioByName } from './scenarios/index.ts';
import { type EventSink, JsonlFileSink } from './sink.ts';
import { EventStream, type StreamLimits } from './stream.ts';
import { ScenarioTruth } from './truth.ts';
import { buildWorld, type World } from './world.ts';

export interface ScenarioChoice {
  name: string;
  /** Parameter overrides (after defaults, before intensity). */
  params?: Params;
}

export interface SimulationOptions {
  customers: number;
  days: number;
  seed: number;
  /** First UTC day, YYYY-MM-DD. */
  start: string;
  scenarios: ScenarioChoice[];
  /** Multiplies every scenario's rate parameters. */
  intensity: number;
  /** How much of a day the stream holds in memory (defaults: `DEFAULT_LIMITS`). */
  limits?: Partial<StreamLimits>;
}

export const DEFAULTS = { customers: 20_000, days: 30, seed: 1, start: '2025-06-01', intensity: 1 } as const;

export interface SimulationResult {
  world: World;
  truths: ScenarioTruth[];
  events: number;
  bytes: number;
  /** Events generated past the end of the period and left out. */
  dropped: number;
  /** Sorted runs the stream made, and how many of them went to a temporary file. */
  runs: { runs: number; spilled: number };
}

export function timelineFor(start: string, days: number): Timeline {
  const startMs = parseDate(start);
  return {
    startMs,
    days,
    saleDay: Math.floor(days * 0.55),
    // The planned rotation of the web key, at KST midnight 40% into the period.
    rotationMs: kstMidnight(utcDate(startMs + Math.max(1, Math.floor(days * 0.4)) * DAY)),
  };
}

/** Unknown scenario names or parameters are the caller's mistake; this says which. */
export class ScenarioError extends Error {}

/**
 * Generates the whole period day by day into `sink`. Memory is bounded by `opts.limits` (a batch
 * of events plus the sorted runs kept in memory) and the day's orders (24 bytes each), not by
 * the day's events.
 */
export async function simulate(opts: SimulationOptions, sink: EventSink): Promise<SimulationResult> {
  const timeline = timelineFor(opts.start, opts.days);
  const world = buildWorld(opts.seed, opts.customers, timeline);
  const truths: ScenarioTruth[] = [];
  const runs: ScenarioRun[] = [];
  for (const choice of opts.scenarios) {
    const scenario = scenarioByName(choice.name);
    if (!scenario) throw new ScenarioError(`unknown scenario: ${choice.name}`);
    const params: Params = scenario.defaults({ days: opts.days, customers: opts.customers });
    for (const [k, v] of Object.entries(choice.params ?? {})) {
      if (!(k in params)) throw new ScenarioError(`scenario ${choice.name} has no parameter ${k}`);
      params[k] = v;
    }
    for (const k of scenario.rates) params[k] *= opts.intensity;
    params.intensity = opts.intensity;
    const truth = new ScenarioTruth(scenario.name, scenario.kind, params);
    runs.push(scenario.setup(world, params, truth, Rng.derive(opts.seed, 'scenario', scenario.name)));
    truths.push(truth);
  }
  await sink.begin?.(world, truths);
  const stream = new EventStream(opts.seed, timeline.startMs, opts.days, sink, opts.limits);
  const paused = (personId: string, ms: number) => runs.some((r) => r.pauses?.(personId, ms) ?? false);
  try {
    for (let day = 0; day < opts.days; day++) {
      const ctx = dayContext({ seed: opts.seed, world, stream, paused }, day);
      stream.beginDay(ctx.endMs);
      generateCustomers(ctx);
      generateStaff(ctx);
      generateServices(ctx);
      for (const run of runs) run.day(ctx);
      await stream.flush(ctx.endMs);
    }
  } finally {
    stream.dispose();
  }
  const dropped = stream.discard();
  await sink.close();
  return { world, truths, events: stream.written, bytes: stream.bytes, dropped, runs: stream.runStats };
}

/** Above this many subjects a scenario's affected list goes to its own file (spec: affected_file). */
const INLINE_AFFECTED_LIMIT = 200_000;

export function truthDocument(opts: SimulationOptions, result: SimulationResult, outDir?: string) {
  const start = parseDate(opts.start);
  return {
    start: iso(start),
    end: iso(start + opts.days * DAY),
    seed: opts.seed,
    customers: opts.customers,
    scenarios: result.truths.map((t) => {
      if (!outDir || t.affectedCount <= INLINE_AFFECTED_LIMIT) return t.toJson();
      const file = `affected-${t.id}.jsonl`;
      t.writeAffected(path.join(outDir, file));
      return t.toJson(file);
    }),
  };
}

/**
 * A rerun into the same directory must not leave day files or truth from a longer earlier run,
 * nor the spill folder of a run that was killed mid-day.
 */
function clearPreviousRun(outDir: string): void {
  const events = path.join(outDir, 'events');
  if (existsSync(events)) {
    for (const f of readdirSync(events))
      if (/^\d{4}-\d{2}-\d{2}\.jsonl(\.gz)?$/.test(f) || f.startsWith('.vigil-sim-'))
        rmSync(path.join(events, f), { recursive: true, force: true });
  }
  for (const f of readdirSync(outDir)) if (/^affected-.*\.jsonl$/.test(f)) rmSync(path.join(outDir, f));
}

/** `vigil simulate`: events plus reference data and truth.json in one directory. */
export async function writeSimulation(
  outDir: string,
  opts: SimulationOptions,
  gzip: boolean,
): Promise<SimulationResult> {
  mkdirSync(outDir, { recursive: true });
  clearPreviousRun(outDir);
  const result = await simulate(opts, new JsonlFileSink(path.join(outDir, 'events'), gzip));
  writeFileSync(path.join(outDir, 'people.csv'), peopleCsv(result.world));
  writeFileSync(path.join(outDir, 'keys.csv'), keysCsv(result.world));
  writeFileSync(path.join(outDir, 'services.csv'), servicesCsv(result.world));
  writeFileSync(path.join(outDir, 'catalog.yaml'), catalogYaml());
  const truth = truthDocument(opts, result, outDir);
  writeFileSync(path.join(outDir, 'truth.json'), `${JSON.stringify(truth, null, 2)}\n`);
  return result;
}
