/**
 * Detection replay speed against the bare engine.
 *
 *   node --import tsx bench/detect.bench.ts --home DIR [--window 300] [--chunk 86400] [--detectors a,b]
 *
 * DIR is a workspace with events and reference data (e.g. from `vigil simulate` + `vigil ingest`).
 * Its detection state (findings, checkpoints, incidents) is CLEARED first, so the replay starts from
 * the beginning. Prints the replay time, windows/s, events/s, the time the bare engine takes to
 * scan the same columns once, and the ratio.
 */
import { parseArgs } from 'node:util';
import { runDetection } from '../src/detect/index.ts';
import { withWorkspace } from '../src/store/index.ts';

const { values } = parseArgs({
  options: {
    home: { type: 'string' },
    window: { type: 'string' },
    chunk: { type: 'string' },
    detectors: { type: 'string' },
  },
});
if (!values.home) {
  process.stderr.write(
    'usage: node --import tsx bench/detect.bench.ts --home DIR [--window S] [--chunk S]\n',
  );
  process.exit(2);
}

await withWorkspace(values.home, { command: 'bench detect' }, async (ws) => {
  const e = ws.engine;
  for (const t of ['findings', 'detection_checkpoints', 'incidents', 'incident_members', 'incident_findings'])
    await e.exec(`TRUNCATE TABLE ${t}`);
  const [{ n, days }] = await e.query<{ n: number; days: number }>(
    "SELECT count() AS n, dateDiff('second', min(time), max(time)) / 86400 AS days FROM events",
  );
  const t0 = performance.now();
  const run = await runDetection(ws, {
    ...(values.window ? { windowSeconds: Number(values.window) } : {}),
    ...(values.chunk ? { chunkSeconds: Number(values.chunk) } : {}),
    ...(values.detectors ? { detectors: values.detectors.split(',') } : {}),
  });
  const replay = (performance.now() - t0) / 1000;

  // The same columns the detectors read, scanned once with the aggregates they need.
  const t1 = performance.now();
  await e.query(
    `SELECT class_uid, status_id, key_id, count(), uniqExact(token_id), uniqExact(actor_uid), uniqExact(src_ip),
       uniqExact(user_agent), uniqExactArray(subject_ids), min(time), max(time), max(token_expires_ms - token_created_ms),
       max(asn), any(country), any(operation), any(url_path), any(http_method)
     FROM events GROUP BY class_uid, status_id, key_id`,
  );
  const scan = (performance.now() - t1) / 1000;

  const out = {
    detectors: run.detectors.map((d) => d.id).join(','),
    events: Number(n),
    days: Number(days).toFixed(1),
    windows: run.windows,
    replay_seconds: replay.toFixed(2),
    windows_per_second: Math.round(run.windows / replay),
    events_per_second: Math.round(Number(n) / replay),
    findings: run.findings_new,
    incidents: run.incidents_new,
    bare_scan_seconds: scan.toFixed(2),
    ratio_replay_to_scan: (replay / scan).toFixed(1),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
});
