import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { detectContext, loadReference } from '../context.ts';
import type { DetectContext, Finding } from '../detector.ts';
import { fixtureWorkspace, type TestWorkspace } from '../testing.ts';
import { departedIdentity } from './departed-identity.ts';

const fixture = path.join(import.meta.dirname, 'departed-identity.fixture.ndjson');
let ws: TestWorkspace;
let ctx: DetectContext;
let findings: Finding[];

const range = (start: string, end: string) => ({
  start: new Date(start),
  end: new Date(end),
  windowSeconds: 300,
});

before(async () => {
  ws = await fixtureWorkspace({ events: fixture });
  ctx = detectContext(ws.engine, departedIdentity, await loadReference(ws.engine));
  findings = await departedIdentity.evaluate(ctx, range('2025-06-23T00:00:00Z', '2025-06-25T00:00:00Z'));
});
after(async () => ws?.dispose());

test('activity after 00:00 (site time) of left_on fires, one finding per window and account', () => {
  assert.deepEqual(
    findings.map((f) => `${f.window_start} ${f.entity.type}:${f.entity.id}`),
    ['2025-06-23T15:10:00Z actor:emp-bob', '2025-06-24T02:00:00Z actor:emp-eng'],
  );
});

test('the finding explains itself: person, departure day, outcomes, subjects read', () => {
  const bob = findings[0];
  assert.equal(bob.evidence.person, 'p-bob');
  assert.equal(bob.evidence.left_on, '2025-06-24');
  assert.deepEqual(bob.evidence.outcomes, { success: 1, failure: 1 });
  assert.equal(bob.evidence.subjects, 3);
  assert.deepEqual(bob.evidence.example_event_ids, ['e-bob-after', 'a-bob-fail']);
  assert.ok(bob.related.some((r) => r.type === 'person' && r.id === 'p-bob'));
  assert.ok(bob.related.some((r) => r.type === 'ip' && r.id === '203.0.113.99'));
  assert.ok(bob.score >= 70);
  assert.equal(findings[1].evidence.days_after_departure, 174);
});

test('the last day before leaving, the grace after midnight, and handed-over accounts stay quiet', async () => {
  const ids = findings.flatMap((f) => f.evidence.example_event_ids as string[]);
  for (const quiet of ['e-bob-last', 'e-bob-grace', 'e-cli', 'e-ana']) assert.ok(!ids.includes(quiet), quiet);
  const strict = { ...ctx, params: { ...ctx.params, grace_seconds: 0 } };
  const hits = await departedIdentity.evaluate(strict, range('2025-06-23T15:00:00Z', '2025-06-23T15:05:00Z'));
  assert.equal(hits.length, 1, 'without grace the 15:01 call counts');
});
