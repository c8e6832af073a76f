import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { SCENARIOS } from './scenarios/index.ts';
import { type SimulationOptions, writeSimulation } from './simulate.ts';

const OPTIONS: SimulationOptions = {
  customers: 600,
  days: 5,
  seed: 11,
  start: '2025-06-01',
  intensity: 1,
  scenarios: SCENARIOS.map((s) => ({ name: s.name })),
};

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p).map((f) => path.join(e.name, f)));
    else out.push(e.name);
  }
  return out.sort();
}

describe('JSON path with a memory budget', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'vigil-sim-runs-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  for (const gzip of [false, true]) {
    it(`writes byte-identical files when batches spill to disk${gzip ? ' (gzip)' : ''}`, async () => {
      const whole = path.join(root, `whole-${gzip}`);
      const spilled = path.join(root, `spilled-${gzip}`);
      const a = await writeSimulation(
        whole,
        { ...OPTIONS, limits: { batchEvents: Number.POSITIVE_INFINITY } },
        gzip,
      );
      // Batches of 700 events, at most 64 KB of runs in memory: every day is several runs, most on disk.
      const b = await writeSimulation(
        spilled,
        { ...OPTIONS, limits: { batchEvents: 700, memoryBytes: 64 << 10 } },
        gzip,
      );
      // Unbounded batches: each day is one run, sorted at once, never spilled.
      assert.deepEqual(a.runs, { runs: OPTIONS.days, spilled: 0 });
      assert.ok(b.runs.runs > OPTIONS.days * 4, `runs: ${b.runs.runs}`);
      assert.ok(b.runs.spilled > OPTIONS.days * 2, `spilled: ${b.runs.spilled}`);
      assert.equal(b.events, a.events);
      assert.equal(b.bytes, a.bytes);
      const names = files(whole);
      assert.deepEqual(files(spilled), names, 'same files, no spill files left behind');
      assert.ok(names.includes('truth.json'));
      for (const f of names)
        assert.ok(
          readFileSync(path.join(spilled, f)).equals(readFileSync(path.join(whole, f))),
          `${f} differs`,
        );
    });
  }
});
