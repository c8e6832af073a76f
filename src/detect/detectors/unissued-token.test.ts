import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { detectContext, loadReference } from '../context.ts';
import type { DetectContext, Finding } from '../detector.ts';
import { fixtureWorkspace, type TestWorkspace } from '../testing.ts';
import { unissuedToken } from './unissued-token.ts';

const fixture = path.join(import.meta.dirname, 'unissued-token.fixture.ndjson');
let ws: TestWorkspace;
let ctx: DetectContext;
let findings: Finding[];

const range = (start: string, end: string) => ({
  start: new Date(start),
  end: new Date(end),
  windowSeconds: 300,
});
const byWindow = (f: Finding[]) => f.map((x) => `${x.window_start} ${x.entity.id}`).sort();

before(async () => {
  ws = await fixtureWorkspace({ events: fixture });
  ctx = detectContext(ws.engine, unissuedToken, await loadReference(ws.engine));
  findings = await unissuedToken.evaluate(ctx, range('2025-06-22T00:00:00Z', '2025-06-25T00:00:00Z'));
});
after(async () => ws?.dispose());

test('fires on never-issued, unknown-key, retired-key and overlong tokens, and nothing else', () => {
  assert.deepEqual(byWindow(findings), [
    '2025-06-24T01:05:00Z k-old',
    '2025-06-24T02:00:00Z k-ghost',
    '2025-06-24T02:30:00Z k-app',
    '2025-06-24T03:10:00Z k-app',
  ]);
});

test('forged use is found in the first window that contains it, as one finding per key', () => {
  const f = findings.find((x) => x.window_start === '2025-06-24T03:10:00Z');
  assert.ok(f);
  assert.equal(f.entity.type, 'key');
  assert.equal(f.window_end, '2025-06-24T03:15:00Z');
  const e = f.evidence as Record<string, unknown>;
  assert.equal(e.events, 3, 'the duplicated delivery is counted once');
  assert.equal(e.tokens, 2);
  assert.equal(e.addresses, 2);
  assert.equal(e.subjects, 4);
  assert.deepEqual(e.reasons, { not_issued: 3 });
  assert.deepEqual(e.example_event_ids, ['e-f1', 'e-f2', 'e-f3']);
  assert.ok((e.categories as string[]).includes('door_code'));
  assert.ok(f.score >= 90);
  assert.ok(f.related.some((r) => r.type === 'ip' && r.id === '203.0.113.7'));
  assert.ok(f.related.some((r) => r.type === 'user_agent' && r.id === 'python-requests/2.31'));
  assert.ok(!f.related.some((r) => r.type === 'actor'), 'victims do not link campaigns');
  assert.deepEqual(
    (e.top_actors as { value: string }[]).map((x) => x.value),
    ['c-v1', 'c-v2'],
  );
});

test('reasons are named: retired key, unknown key, overlong', () => {
  const reasons = (w: string) => findings.find((x) => x.window_start === w)?.evidence.reasons;
  assert.deepEqual(reasons('2025-06-24T01:05:00Z'), { retired_key: 1 });
  assert.deepEqual(reasons('2025-06-24T02:00:00Z'), { not_issued: 1, unknown_key: 1 });
  assert.deepEqual(reasons('2025-06-24T02:30:00Z'), { overlong: 1 });
  const overlong = findings.find((x) => x.window_start === '2025-06-24T02:30:00Z');
  assert.ok(overlong && overlong.score < 60, 'a policy breach alone is a weaker signal');
});

test('a use 30 s before the issuance line is not forged; without the skew allowance it would be', async () => {
  const w = range('2025-06-24T03:05:00Z', '2025-06-24T03:10:00Z');
  assert.equal((await unissuedToken.evaluate(ctx, w)).length, 0);
  const strict = { ...ctx, params: { ...ctx.params, clock_skew_seconds: 0, issuance_log_delay_seconds: 0 } };
  const hits = await unissuedToken.evaluate(strict, w);
  assert.equal(hits.length, 1);
  assert.deepEqual(hits[0].evidence.example_event_ids, ['e-skew']);
});

test('a window judged alone gives the same finding as inside a long range', async () => {
  const alone = await unissuedToken.evaluate(ctx, range('2025-06-24T03:10:00Z', '2025-06-24T03:15:00Z'));
  assert.deepEqual(
    alone,
    findings.filter((x) => x.window_start === '2025-06-24T03:10:00Z'),
  );
});
