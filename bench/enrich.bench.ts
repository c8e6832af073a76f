/**
 * IP enrichment cost: loading the database into a fresh workspace, and enriching random addresses
 * in the engine (ASOF range joins), with wall and CPU seconds (chDB threads included).
 * Run: node --import tsx bench/enrich.bench.ts [n]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadIpDatabase, sqlEnrichAddresses } from '../src/sources/enrich/index.ts';
import { openWorkspace } from '../src/store/index.ts';

const n = Number(process.argv[2] ?? 2_000_000);
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-enrich-bench-'));
const ws = await openWorkspace(home);
const secs = (t: number) => ((performance.now() - t) / 1000).toFixed(2);
try {
  let t = performance.now();
  const load = await loadIpDatabase(ws.engine);
  console.log(`fresh load (CSV → range tables): ${secs(t)} s`);
  for (const p of load.parts)
    console.log(`  ${p.part}: ${p.rows} rows, ${p.seconds.toFixed(2)} s (${p.version})`);
  t = performance.now();
  await loadIpDatabase(ws.engine);
  console.log(`load when current: ${secs(t)} s`);

  // Three quarters IPv4 (all of the space), one quarter IPv6 in 2000::/3, like a mixed gateway log.
  const ip = `if(number % 4 = 0,
    toIPv6(bitOr(bitShiftLeft(toUInt128(rand64(1)), 64), bitShiftLeft(toUInt128(0x2001 + rand(2) % 0x1000), 112))),
    toIPv6(toIPv4(rand32(3))))`;
  await ws.engine.exec(`CREATE TABLE bench_ips ENGINE = Memory AS SELECT ${ip} AS ip FROM numbers(${n})`);
  t = performance.now();
  const cpu0 = process.cpuUsage();
  const [row] = await ws.engine.query<{ n: number; known: number }>(
    `SELECT count() AS n, countIf(asn != 0) AS known FROM (${sqlEnrichAddresses('SELECT ip FROM bench_ips')})`,
  );
  const s = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `enrich ${row?.n} addresses (${row?.known} with an ASN) in ${s.toFixed(2)} s = ${Math.round(n / s).toLocaleString('en')} addresses/s, CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s`,
  );
  console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
} finally {
  await ws.close();
  fs.rmSync(home, { recursive: true, force: true });
}
