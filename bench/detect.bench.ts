/**
 * Detection replay speed against the bare engine.
 *
 *   node --import tsx bench/detect.bench.ts --home DIR [--window 300] [--chunk 86400] [--detectors a,b]
 *     [--keep-baselines]
 *
 * DIR is a workspace with events and reference data (e.g. from `vigil simulate --into-workspace`).
 * Its detection state (findings, checkpoints, incidents) and, unless `--keep-baselines`, its
 * baseline rollups are CLEARED first, so the replay starts from the beginning exactly as
 * `vigil eval` does. Prints the replay time in wall and CPU seconds (CPU counts every thread of the
 * process, the engine's included, and is steadier than wall time when other work shares the
 * machine), the time spent in each detector's `evaluate`, then the bare engine scanning the same
 * columns once, measured right after, and the ratios.
 */
import { parseArgs } from 'node:util';
import { type Detector, detectors, runDetection } from '../src/detect/index.ts';
import { withWorkspace } from '../src/store/index.ts';
import { BASELINE_TABLES, DETECTION_TABLES, measure, timedRegistry } from './detect-common.ts';

const { values } = parseArgs({
  options: {
    home: { type: 'string' },
    window: { type: 'string' },
    chunk: { type: 'string' },
    detectors: { type: 'string' },
    'keep-baselines': { type: 'boolean' },
  },
});
if (!values.home) {
  process.stderr.write(
    'usage: node --import tsx bench/detect.bench.ts --home DIR [--window S] [--chunk S] [--detectors a,b]\n',
  );
  process.exit(2);
}

await withWorkspace(values.home, { command: 'bench detect' }, async (ws) => {
  const e = ws.engine;
  const tables = values['keep-baselines'] ? DETECTION_TABLES : [...DETECTION_TABLES, ...BASELINE_TABLES];
  for (const t of tables) await e.exec(`TRUNCATE TABLE ${t}`);
  const [{ n, days }] = await e.query<{ n: number; days: number }>(
    "SELECT count() AS n, dateDiff('second', min(time), max(time)) / 86400 AS days FROM events",
  );
  const pool: Detector[] = detectors.filter(
    (d) => !values.detectors || values.detectors.split(',').includes(d.meta.id),
  );
  const { registry, times } = timedRegistry(pool);
  const [run, replay] = await measure(() =>
    runDetection(ws, {
      registry,
      ...(values.window ? { windowSeconds: Number(values.window) } : {}),
      ...(values.chunk ? { chunkSeconds: Number(values.chunk) } : {}),
    }),
  );

  // The same columns the detectors read, scanned once with the aggregates they need.
  const [, scan] = await measure(() =>
    e.query(
      `SELECT class_uid, status_id, key_id, count(), uniqExact(token_id), uniqExact(actor_uid), uniqExact(src_ip),
         uniqExact(user_agent), uniqExactArray(subject_ids), min(time), max(time), max(token_expires_ms - token_created_ms),
         max(asn), any(country), any(operation), any(url_path), any(http_method)
       FROM events GROUP BY class_uid, status_id, key_id`,
    ),
  );

  const out = {
    detectors: run.detectors.map((d) => d.id).join(','),
    events: Number(n),
    days: Number(days).toFixed(1),
    windows: run.windows,
    replay_seconds: replay.wall.toFixed(2),
    replay_cpu_seconds: replay.cpu.toFixed(2),
    windows_per_second: Math.round(run.windows / replay.wall),
    events_per_second: Math.round(Number(n) / replay.wall),
    findings: run.findings_new,
    incidents: run.incidents_new,
    per_detector: Object.fromEntries(
      [...times].map(([id, t]) => [id, { wall: t.wall.toFixed(2), cpu: t.cpu.toFixed(2), calls: t.calls }]),
    ),
    outside_detectors_seconds: (replay.wall - [...times.values()].reduce((s, t) => s + t.wall, 0)).toFixed(2),
    bare_scan_seconds: scan.wall.toFixed(2),
    bare_scan_cpu_seconds: scan.cpu.toFixed(2),
    ratio_replay_to_scan: (replay.wall / scan.wall).toFixed(1),
    ratio_cpu: (replay.cpu / scan.cpu).toFixed(1),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
});
