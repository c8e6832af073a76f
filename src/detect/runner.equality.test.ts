import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listFindings } from './findings.ts';
import { listIncidents } from './incident-store.ts';
import { benign, departed, forged } from './runner.fixture.ts';
import { runDetection } from './runner.ts';
import { fixtureWorkspace } from './testing.ts';

/**
 * A replay hands detectors a day of windows per call; live operation hands them one window at a
 * time. Both must reach the same findings and incidents. (Two workspaces, one after the other:
 * chDB holds one data directory per process.)
 */
async function outcome(chunkSeconds: number) {
  const ws = await fixtureWorkspace({
    events: [
      ...benign(Date.parse('2025-06-24T00:00:00Z'), Date.parse('2025-06-24T05:00:00Z')),
      ...forged(Date.parse('2025-06-24T03:12:00Z'), Date.parse('2025-06-24T04:30:00Z')),
      ...departed('2025-06-24T01:10:00Z'),
    ],
  });
  try {
    const run = await runDetection(ws, { chunkSeconds });
    const findings = (await listFindings(ws.engine)).map(({ version: _v, ...f }) => f);
    const incidents = await listIncidents(ws.engine, { findingsLimit: 1000 });
    return { run, findings, incidents };
  } finally {
    await ws.dispose();
  }
}

test('a day of windows per call and one window per call give identical findings and incidents', async () => {
  const batch = await outcome(86_400);
  const live = await outcome(300);
  assert.equal(live.run.windows, batch.run.windows);
  assert.ok(batch.run.windows > 50, `${batch.run.windows} windows`);
  assert.ok(
    batch.findings.length > 5,
    JSON.stringify(batch.findings.map((f) => [f.detector, f.window_start])),
  );
  assert.deepEqual(live.findings, batch.findings);
  assert.deepEqual(live.incidents, batch.incidents);
});
