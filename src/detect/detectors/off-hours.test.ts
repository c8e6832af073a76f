import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Finding } from '../detector.ts';
import { offHours } from './off-hours.ts';
import { evaluate, ids, JUDGED_DAY, type Kit, type Loose, openWorld, WORLD } from './testkit.ts';

let kit: Kit;
let found: Finding[];

before(async () => {
  kit = await openWorld('offhours');
  found = await evaluate(kit, offHours, JUDGED_DAY);
});
after(async () => kit?.close());

test('the insider’s late-night lookups fire, hour by hour', () => {
  const hits = found.filter((f) => f.entity.id === WORLD.insiderPerson);
  assert.ok(hits.length >= 1, ids(found).join(', '));
  const ev = hits[0]!.evidence as Loose;
  assert.ok(ev.local_hour === 23 || ev.local_hour === 0, String(ev.local_hour));
  assert.ok(ev.baseline.own.share <= 0.01);
});

test('office hours, the traveller and the new hire stay quiet', () => {
  assert.deepEqual(ids(found), [`person:${WORLD.insiderPerson}`]);
});
