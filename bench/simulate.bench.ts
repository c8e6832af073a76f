/**
 * Simulator throughput: events/s and bytes/event for the default 20,000 customers × 30 days,
 * written to bench/out/sim (gitignored), plus CPU seconds and peak RSS (on a shared machine the
 * wall figure depends on other load; per CPU-second it does not), and the sorted runs a day was
 * cut into and how many of them went to a temporary file (`stream.ts`, `runs.ts`): peak RSS
 * stays flat as customers grow.
 * Run: node --import tsx bench/simulate.bench.ts [customers] [days] [--gzip]
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { SCENARIOS, writeSimulation } from '../src/sim/index.ts';

const customers = Number(process.argv[2] ?? 20_000);
const days = Number(process.argv[3] ?? 30);
const gzip = process.argv.includes('--gzip');
const out = path.resolve(import.meta.dirname, 'out', 'sim');
rmSync(out, { recursive: true, force: true });
const began = performance.now();
const cpu0 = process.cpuUsage();
const result = await writeSimulation(
  out,
  {
    customers,
    days,
    seed: 1,
    start: '2025-06-01',
    intensity: 1,
    scenarios: SCENARIOS.map((s) => ({ name: s.name })),
  },
  gzip,
);
const seconds = (performance.now() - began) / 1000;
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
console.log(
  JSON.stringify({
    customers,
    days,
    gzip,
    events: result.events,
    seconds: Math.round(seconds * 100) / 100,
    events_per_second: Math.round(result.events / seconds),
    bytes_per_event: Math.round(result.bytes / result.events),
    events_per_customer_month: Math.round(((result.events / customers) * 30) / days),
    cpu_seconds: Math.round(cpuSeconds * 100) / 100,
    events_per_cpu_second: Math.round(result.events / cpuSeconds),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    sorted_runs: result.runs.runs,
    spilled_runs: result.runs.spilled,
  }),
);
