import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fixtureWorkspace, type TestWorkspace } from '../detect/testing.ts';
import { continuedWindow } from './continuation.ts';

/**
 * emp-ana (a support agent) reads 10 customers a day for ten days, 60 a day from 06-11 to 06-13,
 * then 10 a day again. The incident's findings stopped on 06-11 at noon (KST).
 * emp-new has only two days of history.
 */
const DAY = 86_400_000;
const T0 = Date.parse('2025-06-01T01:00:00Z'); // 10:00 KST
let seq = 0;
const read = (t: number, actor: string, subject: string) =>
  JSON.stringify({
    time: t,
    class_uid: 6003,
    activity_id: 2,
    status_id: 1,
    actor: { user: { uid: actor } },
    src_endpoint: { ip: '10.1.2.3' },
    api: { operation: 'AdminSearch' },
    resources: [{ uid: subject, type: 'customer' }],
    metadata: { uid: `ct-${++seq}` },
  });

function lines(): string[] {
  const out: string[] = [];
  for (let d = 0; d < 16; d++) {
    const n = d >= 10 && d <= 12 ? 60 : 10;
    for (let i = 0; i < n; i++) out.push(read(T0 + d * DAY + i * 60_000, 'emp-ana', `c-${d}-${i}`));
  }
  for (let d = 9; d < 13; d++)
    for (let i = 0; i < 80; i++) out.push(read(T0 + d * DAY + i * 60_000, 'emp-new', `n-${d}-${i}`));
  return out;
}

let ws: TestWorkspace;
before(async () => {
  ws = await fixtureWorkspace({ events: lines() });
});
after(async () => ws?.dispose());

const window = { start: '2025-06-11T01:00:00.000Z', end: '2025-06-11T03:00:00.000Z' };

test('an account still reading at incident level after the last finding extends the window to its last such day', async () => {
  const incident = {
    id: 'inc-x',
    first_seen: window.start,
    last_seen: window.end,
    entities: [{ type: 'actor', id: 'emp-ana' }],
  };
  const got = await continuedWindow(ws.engine, incident, window, 'Asia/Seoul');
  // Last read of 06-13: 01:00Z + 59 minutes.
  assert.equal(got.window.end, '2025-06-13T01:59:00.000Z');
  assert.equal(got.window.start, window.start);
  assert.equal(got.steps.length, 1);
  assert.match(got.steps[0].reason, /2025-06-12: 60, 2025-06-13: 60/);
});

test('without enough history, or for an address, the window stays', async () => {
  for (const entities of [[{ type: 'actor', id: 'emp-new' }], [{ type: 'ip', id: '10.1.2.3' }]]) {
    const got = await continuedWindow(
      ws.engine,
      { id: 'inc-y', first_seen: window.start, last_seen: window.end, entities },
      window,
      'Asia/Seoul',
    );
    assert.deepEqual(got, { window, steps: [] });
  }
});
