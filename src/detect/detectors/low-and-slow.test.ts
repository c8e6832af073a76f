import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Finding } from '../detector.ts';
import { lowAndSlow } from './low-and-slow.ts';
import {
  DAY,
  evaluate,
  evaluateEach,
  ids,
  JUDGED_DAY,
  type Kit,
  type Loose,
  openWorld,
  WORLD,
} from './testkit.ts';

let kit: Kit;
let found: Finding[];

before(async () => {
  kit = await openWorld('lowslow');
  found = await evaluate(kit, lowAndSlow, JUDGED_DAY);
});
after(async () => kit?.close());

test('fires on an address reading a few customers an hour for a week, at local midnight', () => {
  const f = found.find((x) => x.entity.type === 'ip' && x.entity.id === WORLD.slow);
  assert.ok(f, ids(found).join(', '));
  assert.equal(f.window_end, new Date(WORLD.judged + DAY).toISOString().replace('.000Z', 'Z'));
  assert.ok((f.evidence as Loose).distinct_subjects_7d > 1000);
  assert.ok((f.evidence as Loose).baseline.peers.group);
});

test('stays quiet on NAT addresses, services and ordinary agents', () => {
  const who = ids(found);
  for (const quiet of [
    ...WORLD.nat.map((ip) => `ip:${ip}`),
    'actor:svc-ship',
    'actor:emp-a3',
    'user_agent:app/1',
  ])
    assert.ok(!who.includes(quiet), quiet);
});

test('window by window gives the same findings as one batch', async () => {
  const range = {
    start: new Date(WORLD.judged + DAY - 900_000),
    end: new Date(WORLD.judged + DAY),
    windowSeconds: 300,
  };
  const key = (f: Finding) => `${f.window_end} ${f.entity.type}:${f.entity.id} ${f.score} ${f.summary}`;
  const live = (await evaluateEach(kit, lowAndSlow, range)).map(key).sort();
  assert.deepEqual(live, found.map(key).sort());
});
