/**
 * Simulator throughput: events/s and bytes/event for the default 20,000 customers × 30 days,
 * written to bench/out/sim (gitignored). Run: node --import tsx bench/simulate.bench.ts [customers] [days]
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { SCENARIOS, writeSimulation } from '../src/sim/index.ts';

const customers = Number(process.argv[2] ?? 20_000);
const days = Number(process.argv[3] ?? 30);
const out = path.resolve(import.meta.dirname, 'out', 'sim');
rmSync(out, { recursive: true, force: true });
const began = performance.now();
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
  false,
);
const seconds = (performance.now() - began) / 1000;
const mem = process.memoryUsage();
console.log(
  JSON.stringify({
    customers,
    days,
    events: result.events,
    seconds: Math.round(seconds * 100) / 100,
    events_per_second: Math.round(result.events / seconds),
    bytes_per_event: Math.round(result.bytes / result.events),
    events_per_customer_month: Math.round(((result.events / customers) * 30) / days),
    rss_mb: Math.round(mem.rss / 1e6),
  }),
);
