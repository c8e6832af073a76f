import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { EntityRef, Finding } from './detector.ts';
import { saveFindings } from './findings.ts';
import { listIncidents } from './incident-store.ts';
import { IncidentGrouper } from './incidents.ts';
import { detectors } from './registry.ts';
import { fixtureWorkspace, type TestWorkspace } from './testing.ts';

let ws: TestWorkspace;

before(async () => {
  ws = await fixtureWorkspace();
  // Addresses as ingest classifies them: a carrier-NAT address and a hosting address.
  await ws.engine.insert('events', [
    {
      event_id: 'n1',
      time: '2025-07-01 00:01:00.000',
      class_uid: 6003,
      src_ip: '::ffff:100.64.1.1',
      net_class: 'mobile',
    },
    {
      event_id: 'n2',
      time: '2025-07-01 00:01:00.000',
      class_uid: 6003,
      src_ip: '::ffff:203.0.113.5',
      net_class: 'hosting',
    },
  ]);
});
after(async () => ws?.dispose());

const metas = new Map(detectors.map((d) => [d.meta.id, d.meta]));
let n = 0;
function finding(entity: EntityRef, related: EntityRef[], score: number, minute = 0): Finding {
  const start = new Date(Date.parse('2025-07-01T00:00:00Z') + minute * 60_000);
  n++;
  return {
    detector: 'departed-identity',
    entity,
    window_start: start.toISOString().replace('.000Z', 'Z'),
    window_end: new Date(start.getTime() + 300_000).toISOString().replace('.000Z', 'Z'),
    score,
    summary: `test finding ${n}`,
    evidence: { events: 1, example_event_ids: [`x${n}`] },
    related,
  };
}

async function group(findings: Finding[]) {
  const saved = await saveFindings(ws.engine, findings, 'test');
  await new IncidentGrouper(
    ws.engine,
    (await import('../sources/reference/index.ts')).DEFAULT_SETTINGS,
    metas,
  ).add(saved.changed);
}

const incidentsOf = async (id: string) =>
  (await listIncidents(ws.engine)).filter((i) => i.entities.some((e) => e.id === id));

test('two findings sharing a signing key are one incident', async () => {
  await group([
    finding({ type: 'actor', id: 'a-1' }, [{ type: 'key', id: 'k-shared' }], 80),
    finding({ type: 'actor', id: 'a-2' }, [{ type: 'key', id: 'k-shared' }], 80, 5),
  ]);
  const found = await incidentsOf('k-shared');
  assert.equal(found.length, 1);
  assert.equal(found[0].counts.findings, 2);
  assert.equal(found[0].detected_at, '2025-07-01T00:05:00Z');
});

test('findings sharing only a carrier-NAT address and a browser agent stay apart', async () => {
  const nat: EntityRef[] = [
    { type: 'ip', id: '100.64.1.1' },
    { type: 'user_agent', id: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)' },
  ];
  await group([
    finding({ type: 'actor', id: 'b-1' }, nat, 80, 10),
    finding({ type: 'actor', id: 'b-2' }, nat, 80, 15),
  ]);
  assert.equal((await incidentsOf('100.64.1.1')).length, 2);
});

test('a hosting address specific to one party does link', async () => {
  const host: EntityRef[] = [{ type: 'ip', id: '203.0.113.5' }];
  await group([
    finding({ type: 'actor', id: 'c-1' }, host, 80, 20),
    finding({ type: 'actor', id: 'c-2' }, host, 80, 25),
  ]);
  assert.equal((await incidentsOf('203.0.113.5')).length, 1);
});

test('a weak signal stays a finding; repeated ones add up to an incident that keeps its history', async () => {
  await group([finding({ type: 'actor', id: 'd-1' }, [], 35, 30)]);
  assert.equal((await incidentsOf('d-1')).length, 0);
  await group([finding({ type: 'actor', id: 'd-1' }, [], 35, 35)]);
  const [inc] = await incidentsOf('d-1');
  assert.ok(inc);
  assert.equal(inc.detected_at, '2025-07-01T00:40:00Z');
  assert.equal(inc.first_seen, '2025-07-01T00:30:00Z');
  assert.equal(inc.counts.findings, 2);
  assert.ok(inc.risk >= 60 && inc.risk < 70);
});

test('a finding that links two open incidents merges them into the older one', async () => {
  await group([finding({ type: 'actor', id: 'a-1' }, [{ type: 'ip', id: '203.0.113.5' }], 80, 40)]);
  const merged = await incidentsOf('k-shared');
  assert.equal(merged.length, 1);
  assert.ok(merged[0].entities.some((e) => e.id === 'c-1'));
  assert.equal(merged[0].counts.findings, 5);
  assert.equal(merged[0].detected_at, '2025-07-01T00:05:00Z');
});

test('an ASN finding made of two known campaigns joins its biggest contributor, lists only its own addresses', async () => {
  await group([
    finding({ type: 'key', id: 'k-camp-a' }, [{ type: 'ip', id: '198.51.100.1' }], 80, 60),
    finding({ type: 'key', id: 'k-camp-b' }, [{ type: 'ip', id: '198.51.100.2' }], 80, 60),
  ]);
  const asn = { type: 'asn' as const, id: 'AS64500' };
  await group([
    finding(
      asn,
      [
        { type: 'ip', id: '198.51.100.2' },
        { type: 'ip', id: '198.51.100.1' },
      ],
      90,
      65,
    ),
  ]);
  assert.equal((await incidentsOf('AS64500')).length, 1, 'no incident of its own');
  const [b] = await incidentsOf('k-camp-b');
  assert.ok(
    b.entities.some((e) => e.id === 'AS64500'),
    'joins the biggest contributor’s incident',
  );
  assert.ok(!b.entities.some((e) => e.id === '198.51.100.1'), 'the other campaign’s address stays out');
  const [a] = await incidentsOf('k-camp-a');
  assert.notEqual(a.id, b.id, 'never merges the two');
});
