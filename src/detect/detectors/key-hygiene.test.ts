import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { detectContext, loadReference } from '../context.ts';
import type { DetectContext, Finding } from '../detector.ts';
import { saveFindings } from '../findings.ts';
import { fixtureWorkspace, type TestWorkspace } from '../testing.ts';
import { keyHygiene } from './key-hygiene.ts';

// Keys against the test roster: p-eng left 2025-01-01, p-bob leaves 2025-06-24, p-ret left 2024-01-01.
const keys = fs.readFileSync(path.join(import.meta.dirname, 'key-hygiene.fixture.csv'), 'utf8');
let ws: TestWorkspace;
let ctx: DetectContext;

const range = (start: string, end: string) => ({
  start: new Date(start),
  end: new Date(end),
  windowSeconds: 300,
});
const show = (f: Finding[]) =>
  f.map((x) => `${x.window_start} ${x.entity.id} ${(x.evidence.conditions as string[]).join(',')}`);

before(async () => {
  ws = await fixtureWorkspace({ keys });
  ctx = detectContext(ws.engine, keyHygiene, await loadReference(ws.engine));
});
after(async () => ws?.dispose());

test('reports keys that outlived a custodian or the rotation age, where the condition began', async () => {
  const findings = await keyHygiene.evaluate(ctx, range('2025-06-22T00:00:00Z', '2025-06-25T00:00:00Z'));
  assert.deepEqual(show(findings), [
    '2025-06-22T00:00:00Z k-app custodian_left:p-eng,rotation_overdue',
    '2025-06-22T00:00:00Z k-old custodian_left:p-eng,rotation_overdue',
    // p-bob's last day ends at 00:00 KST on 2025-06-24 = 15:00Z the day before.
    '2025-06-23T15:00:00Z k-bob custodian_left:p-bob',
  ]);
  const f = findings[0];
  assert.ok(f.score < 60, 'hygiene alone stays a finding, below the incident threshold');
  assert.deepEqual(f.related, [{ type: 'person', id: 'p-eng' }]);
  assert.match(f.summary, /custodian p-eng left on 2025-01-01/);
});

test('planned rotations stay quiet: retired on or before the custodian left, or before rotation age', async () => {
  const findings = await keyHygiene.evaluate(ctx, range('2025-06-22T00:00:00Z', '2025-06-25T00:00:00Z'));
  const keysSeen = new Set(findings.map((f) => f.entity.id));
  assert.ok(!keysSeen.has('k-planned'));
  assert.ok(!keysSeen.has('k-handover'), 'retired the day its custodian left');
  assert.ok(!keysSeen.has('k-new'));
});

test('each condition is reported once: later ranges see it in the findings table', async () => {
  const first = await keyHygiene.evaluate(ctx, range('2025-06-22T00:00:00Z', '2025-06-23T00:00:00Z'));
  assert.equal(first.length, 2);
  await saveFindings(ws.engine, first, 'test');
  const again = await keyHygiene.evaluate(ctx, range('2025-06-23T00:00:00Z', '2025-06-24T00:00:00Z'));
  assert.deepEqual(show(again), ['2025-06-23T15:00:00Z k-bob custodian_left:p-bob']);
  const same = await keyHygiene.evaluate(ctx, range('2025-06-22T00:00:00Z', '2025-06-23T00:00:00Z'));
  assert.deepEqual(same, first, 'judging the same range again gives the same findings');
});
