/**
 * Shared by the detection benches: wall and CPU time of a step, and detectors wrapped so the time
 * each spends in `evaluate` is known.
 */
import type { Detector } from '../src/detect/index.ts';

/** Tables the runner writes: cleared so a replay starts from the beginning. */
export const DETECTION_TABLES = [
  'findings',
  'detection_checkpoints',
  'incidents',
  'incident_members',
  'incident_findings',
];

/** Rollups the behavioural detectors refresh; cleared so their cost is part of the replay. */
export const BASELINE_TABLES = [
  'baseline_hourly',
  'baseline_origins',
  'baseline_categories',
  'baseline_daily',
  'baseline_peers',
  'baseline_hours',
  'baseline_days',
];

export interface Timing {
  /** Wall seconds. */
  wall: number;
  /** CPU seconds of the whole process (every thread: chDB runs in-process). */
  cpu: number;
}

export async function measure<T>(fn: () => Promise<T>): Promise<[T, Timing]> {
  const c = process.cpuUsage();
  const t = performance.now();
  const v = await fn();
  const used = process.cpuUsage(c);
  return [v, { wall: (performance.now() - t) / 1000, cpu: (used.user + used.system) / 1e6 }];
}

/** The detectors, each timed per `evaluate` call (summed into `times` by id). */
export function timedRegistry(pool: readonly Detector[]): {
  registry: Detector[];
  times: Map<string, Timing & { calls: number }>;
} {
  const times = new Map<string, Timing & { calls: number }>();
  const registry = pool.map(
    (d): Detector => ({
      meta: d.meta,
      ...(d.lookaheadSeconds ? { lookaheadSeconds: d.lookaheadSeconds.bind(d) } : {}),
      async evaluate(ctx, range) {
        const [found, t] = await measure(() => d.evaluate(ctx, range));
        const sum = times.get(d.meta.id) ?? { wall: 0, cpu: 0, calls: 0 };
        times.set(d.meta.id, { wall: sum.wall + t.wall, cpu: sum.cpu + t.cpu, calls: sum.calls + 1 });
        return found;
      },
    }),
  );
  return { registry, times };
}
