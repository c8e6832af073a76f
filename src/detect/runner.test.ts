import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { departedIdentity } from './detectors/departed-identity.ts';
import { keyHygiene } from './detectors/key-hygiene.ts';
import { unissuedToken } from './detectors/unissued-token.ts';
import { listFindings } from './findings.ts';
import { listIncidents } from './incident-store.ts';
import { benign, departed, forged } from './runner.fixture.ts';
import { runDetection } from './runner.ts';
import { fixtureWorkspace, type TestWorkspace } from './testing.ts';

let ws: TestWorkspace;
// The runner is tested with the built-in detectors only, so detectors added to the registry later
// do not change these counts; runner.equality.test.ts holds every registered detector to the contract.
const core = [unissuedToken, keyHygiene, departedIdentity];
const count = async () => (await listFindings(ws.engine)).length;

before(async () => {
  ws = await fixtureWorkspace({ events: [...benign(), ...forged(), ...departed()] });
});
after(async () => ws?.dispose());

test('a replay finds the forged campaign in its first window and makes one incident of it', async () => {
  const s = await runDetection(ws, { registry: core });
  assert.ok(s.windows > 400, `windows ${s.windows}`);
  assert.ok(s.findings_new > 0);
  const incidents = await listIncidents(ws.engine);
  const forgedInc = incidents.find((i) => i.entities.some((e) => e.type === 'key' && e.id === 'k-app'));
  assert.ok(forgedInc, JSON.stringify(incidents.map((i) => i.title)));
  assert.equal(forgedInc.detected_at, '2025-06-24T03:15:00Z');
  assert.equal(forgedInc.first_seen, '2025-06-24T03:12:00Z');
  assert.equal(forgedInc.severity, 'critical');
  assert.ok(forgedInc.entities.some((e) => e.type === 'ip' && e.id === '203.0.113.7'));
  // The campaign is one incident whose findings are the key's windows, plus the key's hygiene history.
  const detectorsSeen = new Set(forgedInc.findings.map((f) => f.detector));
  assert.deepEqual([...detectorsSeen].sort(), ['key-hygiene', 'unissued-token']);
  const bob = incidents.find((i) => i.entities.some((e) => e.type === 'actor' && e.id === 'emp-bob'));
  assert.ok(bob);
  assert.equal(bob.detected_at, '2025-06-23T15:15:00Z');
  assert.equal(incidents.length, 2, incidents.map((i) => i.title).join('\n'));
  // Never judged past the newest event time minus the settle margin and lookahead.
  const last = (await listFindings(ws.engine, { detector: 'unissued-token' })).at(-1);
  assert.ok(last && last.window_end <= '2025-06-24T12:00:00Z');
});

test('running again over the same data creates nothing', async () => {
  const before = await count();
  const s = await runDetection(ws, { registry: core });
  assert.equal(s.findings_new, 0);
  assert.equal(s.findings_updated, 0);
  assert.equal(s.incidents_new, 0);
  assert.equal(await count(), before);
  assert.equal((await listIncidents(ws.engine)).length, 2);
});

test('more data continues from the checkpoint; the campaign grows the same incident', async () => {
  const before = await listIncidents(ws.engine);
  await ws.ingestLines([
    ...benign(Date.parse('2025-06-24T12:00:00Z'), Date.parse('2025-06-24T18:00:00Z')),
    ...forged(Date.parse('2025-06-24T13:00:00Z'), Date.parse('2025-06-24T14:00:00Z'), 'g'),
  ]);
  const s = await runDetection(ws, { registry: core });
  assert.ok(s.windows > 0 && s.windows < 100, `windows ${s.windows}: continued, not replayed`);
  assert.ok(s.detectors.every((d) => !d.replayed));
  assert.equal(s.incidents_new, 0);
  const after = await listIncidents(ws.engine);
  assert.equal(after.length, before.length);
  const inc = after.find((i) => i.entities.some((e) => e.id === 'k-app'));
  assert.ok(inc);
  assert.equal(inc.last_seen, '2025-06-24T13:40:00Z');
  assert.ok(inc.counts.findings > before.find((i) => i.id === inc.id)!.counts.findings);
});

test('late events within the allowance are judged in their own window', async () => {
  // A forged call from 30 minutes before the checkpoint arrives now.
  const late = forged(Date.parse('2025-06-24T17:02:00Z'), Date.parse('2025-06-24T17:03:00Z'), 'late');
  const before = await count();
  await ws.ingestLines(late);
  const s = await runDetection(ws, { registry: core });
  assert.ok(s.late_windows > 0);
  assert.equal(await count(), before + 1);
  const hit = await listFindings(ws.engine, {
    since: new Date('2025-06-24T17:00:00Z'),
    until: new Date('2025-06-24T17:05:00Z'),
  });
  assert.deepEqual(
    hit.map((f) => `${f.detector} ${f.entity.id}`),
    ['unissued-token k-app'],
  );
  const again = await runDetection(ws, { registry: core });
  assert.equal(again.findings_new + again.findings_updated, 0);
});

test('a changed detector replays from the start alone (retro-hunt); unchanged ones continue', async () => {
  const changed = { ...departedIdentity, meta: { ...departedIdentity.meta, revision: 2 } };
  const s = await runDetection(ws, { registry: [unissuedToken, keyHygiene, changed] });
  const byId = new Map(s.detectors.map((d) => [d.id, d]));
  assert.equal(byId.get('departed-identity')?.replayed, true);
  assert.equal(byId.get('departed-identity')?.from, '2025-06-23T00:00:00Z');
  assert.equal(byId.get('unissued-token')?.from, null, 'up to date');
  assert.equal(s.findings_new, 0, 'same logic, same findings: nothing new');
  const again = await runDetection(ws, { registry: [unissuedToken, keyHygiene, changed] });
  assert.ok(again.detectors.every((d) => d.from === null));
});
