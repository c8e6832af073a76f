import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../cli/errors.ts';
import { ingestInputs } from '../../sources/index.ts';
import type { Workspace } from '../../store/index.ts';
import { catalogYaml } from '../catalog.ts';
import { keysCsv, peopleCsv, servicesCsv } from '../reference.ts';
import { type SimulationOptions, type SimulationResult, simulate, truthDocument } from '../simulate.ts';
import { MAX_TOTAL_ID } from './replicate.ts';
import { WorkspaceSink, type WorkspaceSinkProgress } from './workspace.ts';

export interface IntoWorkspaceOptions {
  /** Where reference files and truth.json go (events go to the workspace). */
  out: string;
  /**
   * Copies of the base world's benign traffic, base included (1 = no amplification). Default:
   * enough that at most MAX_BASE_CUSTOMERS are simulated in JavaScript.
   */
  shards?: number;
  onProgress?: (p: WorkspaceSinkProgress) => void;
  /** See `WorkspaceSinkOptions.deferMerges` (default true). */
  deferMerges?: boolean;
  /** See `WorkspaceSinkOptions.stageInMemoryBytes`. */
  stageInMemoryBytes?: number;
}

export interface IntoWorkspaceResult {
  result: SimulationResult;
  shards: number;
  baseCustomers: number;
  /** Customers in the store: base × shards. */
  customers: number;
  /** Rows ingested from the simulated lines (base shard, attacks included). */
  baseRows: number;
  /** Rows copied into shards 1 … K−1. */
  replicaRows: number;
  quarantined: number;
  /** Attack event id → scenario. */
  attacks: ReadonlyMap<string, string>;
}

/**
 * Customers simulated in JavaScript by default; the engine copies the rest, which costs it less
 * per event. Memory does not depend on it (the stream's sorted runs bound a day of any size), but
 * a larger base is more varied traffic: 25,000 was no faster (1.1 M x 6 days: 55 CPU s for 44
 * shards against 52 for 22).
 */
export const MAX_BASE_CUSTOMERS = 50_000;

/**
 * `vigil simulate --into-workspace`: the same traffic as the JSON output, stored directly. The
 * world is simulated at `customers / shards` (scenarios sized to that base, their victims all in
 * it); its benign traffic is then copied in the engine into the other shards (`replicate.ts`).
 * Reference data is loaded as `vigil ingest --people … --catalog …` would, from files written to
 * `out` beside truth.json, whose affected subjects are exactly the JavaScript truth.
 */
export async function simulateIntoWorkspace(
  ws: Workspace,
  opts: SimulationOptions,
  into: IntoWorkspaceOptions,
): Promise<IntoWorkspaceResult> {
  const engine = ws.engine;
  if (engine.kind !== 'embedded') {
    throw new UserError(
      'simulating into a workspace needs the embedded engine',
      'the engine parses the day files from this machine; drop --engine, or simulate to --out and ingest',
    );
  }
  const shards = into.shards ?? Math.ceil(opts.customers / MAX_BASE_CUSTOMERS);
  const baseCustomers = Math.ceil(opts.customers / shards);
  if (baseCustomers * shards >= MAX_TOTAL_ID) {
    throw new UserError(`at most ${MAX_TOTAL_ID - 1} customers can be simulated into a workspace`);
  }
  const [row] = await engine.query<{ n: number }>('SELECT count() AS n FROM events');
  if ((row?.n ?? 0) > 0) {
    throw new UserError(
      `the workspace ${ws.home} already holds ${row?.n} events`,
      'simulate into a fresh --home: simulated event ids start over with every run',
    );
  }
  mkdirSync(into.out, { recursive: true });
  for (const f of readdirSync(into.out)) if (/^affected-.*\.jsonl$/.test(f)) rmSync(path.join(into.out, f));
  const base: SimulationOptions = { ...opts, customers: baseCustomers };
  const sink = new WorkspaceSink(engine, {
    shards,
    ...(into.onProgress ? { onProgress: into.onProgress } : {}),
    ...(into.deferMerges !== undefined ? { deferMerges: into.deferMerges } : {}),
    ...(into.stageInMemoryBytes !== undefined ? { stageInMemoryBytes: into.stageInMemoryBytes } : {}),
    onBegin: async (world) => {
      const file = (name: string, text: string) => {
        const p = path.join(into.out, name);
        writeFileSync(p, text);
        return p;
      };
      await ingestInputs(ws, [], {
        reference: {
          catalog: file('catalog.yaml', catalogYaml()),
          people: file('people.csv', peopleCsv(world)),
          keys: file('keys.csv', keysCsv(world)),
          services: file('services.csv', servicesCsv(world)),
        },
      });
    },
  });
  let result: SimulationResult;
  try {
    result = await simulate(base, sink);
  } finally {
    await sink.dispose();
  }
  const truth = {
    ...truthDocument(base, result, into.out),
    customers: baseCustomers * shards,
    base_customers: baseCustomers,
    shards,
  };
  writeFileSync(path.join(into.out, 'truth.json'), `${JSON.stringify(truth, null, 2)}\n`);
  return {
    result,
    shards,
    baseCustomers,
    customers: baseCustomers * shards,
    baseRows: sink.counts.stored,
    replicaRows: sink.replicaRows,
    quarantined: sink.counts.quarantined,
    attacks: sink.attacks,
  };
}
