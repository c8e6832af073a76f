import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Finding } from '../detector.ts';
import { newOrigin } from './new-origin.ts';
import { evaluate, ids, JUDGED_DAY, type Kit, openWorld, WORLD } from './testkit.ts';

let kit: Kit;
let found: Finding[];

before(async () => {
  kit = await openWorld('neworigin');
  found = await evaluate(kit, newOrigin, JUDGED_DAY);
});
after(async () => kit?.close());

test('a service credential used from a hosting network abroad scores high at once', () => {
  const f = found.find((x) => x.entity.id === 'svc-export');
  assert.ok(f, ids(found).join(', '));
  assert.ok(f.score >= 60, String(f.score));
  assert.ok(f.related.some((r) => r.type === 'ip' && r.id === '45.76.9.9'));
});

test('a hosting address trying many customer accounts fires; a customer on a cloud VPN does not', () => {
  const hits = found.filter((x) => x.entity.type === 'ip' && x.entity.id === WORLD.stuffing);
  assert.ok(hits.length > 0, ids(found).join(', '));
  assert.ok(Math.max(...hits.map((h) => h.score)) >= 60);
  assert.ok(!ids(found).includes(`ip:${WORLD.vpn}`));
});

test('a traveller is noted but raises no incident on its own; a new hire is not judged', () => {
  const t = found.filter((x) => x.entity.id === WORLD.traveller);
  assert.equal(t.length, 1);
  assert.ok(t[0]!.score < 60, String(t[0]!.score));
  assert.ok(!ids(found).includes(`actor:${WORLD.newHire}`));
});
