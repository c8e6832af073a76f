import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Finding } from '../detector.ts';
import { fanout } from './fanout.ts';
import {
  evaluate,
  evaluateEach,
  HOUR,
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
  kit = await openWorld('fanout');
  found = await evaluate(kit, fanout, JUDGED_DAY);
});
after(async () => kit?.close());

test('fires on the insider (account and person) and on the export credential used from abroad', () => {
  const who = ids(found);
  for (const e of [`actor:${WORLD.insider}`, `person:${WORLD.insiderPerson}`, 'actor:svc-export'])
    assert.ok(who.includes(e), e);
  const insider = found.filter((f) => f.entity.id === WORLD.insider);
  assert.ok(Math.max(...insider.map((f) => f.score)) >= 40);
});

test('stays quiet on NAT addresses, a service reading everyone, a new hire, a traveller and a cloud VPN', () => {
  const who = ids(found);
  for (const quiet of [
    ...WORLD.nat.map((ip) => `ip:${ip}`),
    'actor:svc-ship',
    `actor:${WORLD.newHire}`,
    `actor:${WORLD.traveller}`,
    `ip:${WORLD.vpn}`,
    'ip:10.10.0.5',
    'user_agent:app/1',
    'asn:AS9644',
  ])
    assert.ok(
      !who.includes(quiet),
      `${quiet} fired: ${found.find((f) => `${f.entity.type}:${f.entity.id}` === quiet)?.summary}`,
    );
});

test('a finding explains itself', () => {
  const f = found.find((x) => x.entity.id === WORLD.insiderPerson)!;
  assert.match(f.summary, /distinct people/);
  const ev = f.evidence as Loose;
  assert.ok(ev.example_event_ids.length > 0 && ev.example_event_ids.length <= 5);
  assert.ok(ev.baseline.own.days >= 3, 'own history used');
  assert.equal(
    ev.baseline.peers?.group ?? 'role:customer-service/agent/KR',
    'role:customer-service/agent/KR',
  );
  assert.ok(f.score > 0 && f.score <= 100);
  assert.ok(f.related.some((r) => r.type === 'actor' && r.id === WORLD.insider));
  assert.ok(f.related.length <= 12);
});

test('window by window gives the same findings as one batch', async () => {
  const range = { start: new Date(WORLD.judged), end: new Date(WORLD.judged + 4 * HOUR), windowSeconds: 300 };
  const key = (f: Finding) => `${f.window_end} ${f.entity.type}:${f.entity.id} ${f.score} ${f.summary}`;
  const batch = (await evaluate(kit, fanout, range)).map(key).sort();
  const live = (await evaluateEach(kit, fanout, range)).map(key).sort();
  assert.ok(batch.length > 0);
  assert.deepEqual(live, batch);
});
