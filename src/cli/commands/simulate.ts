import path from 'node:path';
import type { Command } from 'commander';
import {
  DEFAULTS,
  MAX_BASE_CUSTOMERS,
  SCENARIOS,
  type ScenarioChoice,
  ScenarioError,
  type SimulationOptions,
  simulateIntoWorkspace,
  writeSimulation,
} from '../../sim/index.ts';
import { withWorkspace } from '../../store/index.ts';
import { globalOptions, log, printJson } from '../context.ts';
import { UserError } from '../errors.ts';
import { formatRate, Progress } from '../progress.ts';

interface SimulateFlags {
  out?: string;
  scenario: string[];
  customers: string;
  days: string;
  seed: string;
  start: string;
  gzip?: boolean;
  intensity: string;
  list?: boolean;
  json?: boolean;
  intoWorkspace?: boolean;
  shards?: string;
}

export function register(program: Command): void {
  program
    .command('simulate')
    .description(
      'write a month of OCSF e-commerce logs with known breaches hidden in them, plus reference data and truth.json',
    )
    .option('--out <dir>', 'output directory')
    .option(
      '--scenario <name>',
      'attack to include, repeatable; NAME or NAME:param=value,… (default: all; "none" for benign only)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option('--customers <n>', 'number of customers', String(DEFAULTS.customers))
    .option('--days <n>', 'number of days', String(DEFAULTS.days))
    .option(
      '--seed <n>',
      'random seed (same seed and options → byte-identical output)',
      String(DEFAULTS.seed),
    )
    .option('--start <date>', 'first UTC day, YYYY-MM-DD', DEFAULTS.start)
    .option(
      '--intensity <x>',
      'multiplies every scenario’s rates (0.5 halves them)',
      String(DEFAULTS.intensity),
    )
    .option('--gzip', 'write events/*.jsonl.gz')
    .option(
      '--into-workspace',
      'store events straight into the workspace (--home) instead of writing JSON; --out gets reference data and truth.json',
    )
    .option(
      '--shards <k>',
      `with --into-workspace: simulate customers/k in JavaScript and copy their benign traffic into k shards in the engine (default: enough for ≤ ${MAX_BASE_CUSTOMERS.toLocaleString('en')} per shard)`,
    )
    .option('--list', 'list the scenarios and their default parameters, then exit')
    .option('--json', 'print the summary as JSON')
    .action(async (flags: SimulateFlags, cmd: Command) => {
      const customers = positiveInt(flags.customers, '--customers');
      const days = positiveInt(flags.days, '--days');
      if (flags.list) {
        printJson(
          SCENARIOS.map((s) => ({
            name: s.name,
            kind: s.kind,
            description: s.description,
            rates: s.rates,
            defaults: s.defaults({ days, customers }),
          })),
        );
        return;
      }
      if (!flags.out) throw new UserError('--out DIR is required', 'e.g. vigil simulate --out sim-out');
      const seed = Number(flags.seed);
      if (!Number.isInteger(seed)) throw new UserError(`--seed must be an integer, got ${flags.seed}`);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(flags.start) || Number.isNaN(Date.parse(flags.start))) {
        throw new UserError(`--start must be YYYY-MM-DD, got ${flags.start}`);
      }
      const intensity = Number(flags.intensity);
      if (!(intensity >= 0)) throw new UserError(`--intensity must be a number ≥ 0, got ${flags.intensity}`);
      const options = {
        customers,
        days,
        seed,
        start: flags.start,
        intensity,
        scenarios: parseScenarios(flags.scenario),
      };
      const out = path.resolve(flags.out);
      if (flags.intoWorkspace) {
        const shards = flags.shards === undefined ? undefined : positiveInt(flags.shards, '--shards');
        await intoWorkspace(cmd, options, out, shards, flags.json ?? false);
        return;
      }
      const began = performance.now();
      log(`simulating ${customers} customers × ${days} days from ${flags.start} (seed ${seed}) → ${out}`);
      let result: Awaited<ReturnType<typeof writeSimulation>>;
      try {
        result = await writeSimulation(out, options, flags.gzip ?? false);
      } catch (err) {
        if (err instanceof ScenarioError) throw new UserError(err.message, 'see vigil simulate --list');
        throw err;
      }
      const seconds = (performance.now() - began) / 1000;
      const summary = {
        out,
        events: result.events,
        bytes: result.bytes,
        seconds: Math.round(seconds * 10) / 10,
        events_per_second: Math.round(result.events / seconds),
        scenarios: result.truths.map((t) => ({ id: t.id, events: t.events, subjects: t.affected.size })),
      };
      if (flags.json) printJson(summary);
      else {
        log(
          `wrote ${summary.events.toLocaleString('en')} events (${(summary.bytes / 1e6).toFixed(0)} MB uncompressed) in ${summary.seconds} s`,
        );
        for (const s of summary.scenarios)
          log(
            `  ${s.id.padEnd(32)} ${String(s.events).padStart(8)} events  ${String(s.subjects).padStart(7)} subjects`,
          );
      }
    });
}

/** `--into-workspace`: native inserts into --home, amplified to `shards` copies of the base world. */
async function intoWorkspace(
  cmd: Command,
  options: SimulationOptions,
  out: string,
  shards: number | undefined,
  json: boolean,
): Promise<void> {
  const { home, engine } = globalOptions(cmd);
  const began = performance.now();
  log(`simulating ${options.customers} customers × ${options.days} days into ${home}; truth → ${out}`);
  const progress = new Progress('simulate');
  const run = await withWorkspace(home, { command: 'simulate', engineUrl: engine }, (ws) =>
    simulateIntoWorkspace(ws, options, {
      out,
      ...(shards === undefined ? {} : { shards }),
      onProgress: (p) => {
        const rows = p.baseRows + p.replicaRows;
        progress.update(
          `day ${p.daysDone}/${options.days} (${p.day}), ${rows.toLocaleString('en')} events, ${formatRate(rows / progress.elapsedSeconds)} events/s`,
        );
      },
    }),
  ).catch((err: unknown) => {
    if (err instanceof ScenarioError) throw new UserError(err.message, 'see vigil simulate --list');
    throw err;
  });
  progress.done();
  const seconds = (performance.now() - began) / 1000;
  const events = run.baseRows + run.replicaRows;
  const summary = {
    workspace: home,
    out,
    customers: run.customers,
    base_customers: run.baseCustomers,
    shards: run.shards,
    events,
    base_events: run.baseRows,
    replica_events: run.replicaRows,
    quarantined: run.quarantined,
    seconds: Math.round(seconds * 10) / 10,
    events_per_second: Math.round(events / seconds),
    scenarios: run.result.truths.map((t) => ({ id: t.id, events: t.events, subjects: t.affected.size })),
  };
  if (json) {
    printJson(summary);
    return;
  }
  log(
    `stored ${events.toLocaleString('en')} events in ${summary.seconds} s (${formatRate(summary.events_per_second)} events/s): ` +
      `${run.baseCustomers.toLocaleString('en')} customers simulated (${run.baseRows.toLocaleString('en')} events), copied into ${run.shards - 1} more shard(s) (${run.replicaRows.toLocaleString('en')} events)`,
  );
  for (const s of summary.scenarios)
    log(
      `  ${s.id.padEnd(32)} ${String(s.events).padStart(8)} events  ${String(s.subjects).padStart(7)} subjects`,
    );
}

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UserError(`${flag} must be a positive integer, got ${value}`);
  return n;
}

/** `--scenario a --scenario b:addresses=20,startDay=3`; nothing means all, `none` means none. */
export function parseScenarios(values: string[]): ScenarioChoice[] {
  if (values.length === 0) return SCENARIOS.map((s) => ({ name: s.name }));
  if (values.includes('none')) return [];
  const names = new Set(SCENARIOS.map((s) => s.name));
  return values.map((value) => {
    const [name, rest] = value.split(':', 2);
    if (!names.has(name)) {
      throw new UserError(`unknown scenario: ${name}`, `known: ${[...names].join(', ')}, none`);
    }
    const params: Record<string, number> = {};
    for (const pair of rest ? rest.split(',') : []) {
      const [k, v] = pair.split('=');
      const n = Number(v);
      if (!k || v === undefined || Number.isNaN(n))
        throw new UserError(`bad scenario parameter "${pair}" in ${value}`, 'use NAME:param=number,…');
      params[k] = n;
    }
    return { name, params };
  });
}
