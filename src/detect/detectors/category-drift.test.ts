import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Finding } from '../detector.ts';
import { categoryDrift } from './category-drift.ts';
import { evaluate, ids, JUDGED_DAY, type Kit, type Loose, openWorld, WORLD } from './testkit.ts';

let kit: Kit;
let found: Finding[];

before(async () => {
  kit = await openWorld('drift');
  found = await evaluate(kit, categoryDrift, JUDGED_DAY);
});
after(async () => kit?.close());

test('a service reading categories it never read (address books, door codes) fires', () => {
  const f = found.find((x) => x.entity.id === 'svc-export');
  assert.ok(f, ids(found).join(', '));
  const cats = (f.evidence as Loose).new_categories.map((c: Loose) => c.category);
  assert.ok(cats.includes('door_code') && cats.includes('address'), cats.join(','));
  assert.ok(f.score >= 60);
});

test('agents reading what agents read, a new hire and the weekly export stay quiet', () => {
  assert.deepEqual(ids(found), ['actor:svc-export']);
  void WORLD;
});
