/**
 * Replay time of the baseline detectors (fan-out, low-and-slow, new-origin, category-drift,
 * off-hours) over a simulated workspace, against the bare engine scanning the same columns.
 *
 *   node --import tsx bench/baselines.bench.ts SIMDIR [--home DIR] [--window 300]
 *
 * Ingests SIMDIR into DIR (a temporary workspace unless --home names one already ingested), drops
 * any earlier rollups and findings of these detectors, replays them from the start with the
 * runner, and prints: events, replay seconds (and the rollup refresh's share), findings per
 * detector, then the bare engine's full scan of the columns the detectors read (one grouped pass
 * per entity kind over every event) and the ratio.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { refreshBaselines } from '../src/detect/baselines/index.ts';
import { runDetection } from '../src/detect/index.ts';
import { ingestInputs } from '../src/sources/index.ts';
import { catalogSql, currentCatalog, currentSettings } from '../src/sources/reference/index.ts';
import { openWorkspace } from '../src/store/index.ts';
import { BASELINE_TABLES } from './detect-common.ts';

const DETECTORS = ['fan-out', 'low-and-slow', 'new-origin', 'category-drift', 'off-hours'];

const args = process.argv.slice(2);
const simDir = args[0];
if (!simDir) throw new Error('usage: baselines.bench.ts SIMDIR [--home DIR] [--window 300]');
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? def) : def;
};
const home = opt('home', fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-blbench-')));
const windowSeconds = Number(opt('window', '300'));
const ws = await openWorkspace(home, { command: 'bench' });
const e = ws.engine;
const now = () => performance.now();
try {
  const [{ n: stored }] = await e.query<{ n: number }>('SELECT count() AS n FROM events');
  if (Number(stored) === 0) {
    const a = now();
    const ref = (f: string) => path.join(simDir, f);
    await ingestInputs(ws, [ref('events')], {
      reference: {
        people: ref('people.csv'),
        keys: ref('keys.csv'),
        services: ref('services.csv'),
        catalog: ref('catalog.yaml'),
      },
    });
    console.log(`ingest ${((now() - a) / 1000).toFixed(1)} s`);
  }
  for (const t of BASELINE_TABLES) await e.exec(`TRUNCATE TABLE IF EXISTS ${t}`);
  await e.exec('DELETE FROM detection_checkpoints WHERE detector IN {ids:Array(String)}', { ids: DETECTORS });
  const [{ n, lo, hi }] = await e.query<{ n: number; lo: string; hi: string }>(
    'SELECT count() AS n, toString(min(time)) AS lo, toString(max(time)) AS hi FROM events',
  );
  console.log(`events ${n} (${lo} .. ${hi})`);

  // Rollups alone (what the first detector of each chunk pays), then the whole replay on top.
  const settings = await currentSettings(e);
  const cats = catalogSql(await currentCatalog(e), e.dialect).categories;
  let a = now();
  await refreshBaselines(e, {
    from: Date.parse(`${lo.replace(' ', 'T')}Z`) - 3_600_000,
    until: Date.parse(`${hi.replace(' ', 'T')}Z`) + 3_600_000,
    tz: settings.timezone,
    categoriesSql: cats,
  });
  const rollups = (now() - a) / 1000;
  a = now();
  const run = await runDetection(ws, { detectors: DETECTORS, windowSeconds });
  const replay = (now() - a) / 1000;
  console.log(
    `rollup refresh ${rollups.toFixed(1)} s; detector replay ${replay.toFixed(1)} s; total ${(rollups + replay).toFixed(1)} s`,
  );
  console.log(
    `windows ${run.windows}; findings ${run.detectors.map((d) => `${d.id}=${d.findings}`).join(' ')}; incidents new ${run.incidents_new}`,
  );

  // The bare engine: the same columns, one grouped pass per entity kind, exact distinct subjects.
  a = now();
  await e.query(
    `SELECT count() FROM (
       SELECT toStartOfHour(time) AS h, actor_uid, uniqExactArray(subject_ids) FROM events GROUP BY h, actor_uid
       UNION ALL SELECT toStartOfHour(time) AS h, toString(src_ip), uniqExactArray(subject_ids) FROM events GROUP BY h, src_ip
       UNION ALL SELECT toStartOfHour(time) AS h, toString(asn), uniqExactArray(subject_ids) FROM events GROUP BY h, asn
       UNION ALL SELECT toStartOfHour(time) AS h, toString(user_agent), uniqExactArray(subject_ids) FROM events GROUP BY h, user_agent)`,
  );
  const bare = (now() - a) / 1000;
  console.log(`bare engine scan ${bare.toFixed(2)} s; ratio ${((rollups + replay) / bare).toFixed(1)}×`);
} finally {
  await ws.close();
}
