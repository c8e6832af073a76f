import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ingestInputs } from '../sources/index.ts';
import { loadCatalog } from '../sources/reference/index.ts';
import { openWorkspace, type Workspace } from '../store/index.ts';
import {
  listAudit,
  type ScopeIncident,
  type ScopeSummary,
  scopeIncident,
  writeExposureFile,
} from './index.ts';

/**
 * The hand-built scenario in scope.fixture.ndjson (each line's `_note` says what it is): forged
 * tokens signed by k-app and k-old from an attacker-only address H, from a carrier NAT M that
 * three customers used the week before, and from F and G that the incident does not name (found
 * through the forged keys); benign customers on M and elsewhere; a failed payment read.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE = path.join(here, 'scope.fixture.ndjson');
const CATALOG = path.join(here, 'scope.fixture.catalog.yaml');
const CATALOG_V2 = path.join(here, 'scope.fixture.catalog-v2.yaml');

const INCIDENT: ScopeIncident = {
  id: 'inc-test',
  first_seen: '2025-06-10T00:00:00Z',
  last_seen: '2025-06-12T00:00:00Z',
  entities: [
    { type: 'key', id: 'k-app' },
    { type: 'ip', id: '203.0.113.7' },
    { type: 'ip', id: '198.51.100.9' },
  ],
};

/** Ground truth, by hand from the fixture. */
const TRUTH: Record<string, { categories: string[]; confidence: string; type: string }> = {
  c2: { categories: ['email', 'name', 'phone'], confidence: 'confirmed', type: 'customer' },
  c3: { categories: ['email', 'name', 'phone'], confidence: 'confirmed', type: 'customer' },
  c6: { categories: ['address', 'email', 'name', 'phone'], confidence: 'confirmed', type: 'customer' },
  r1: { categories: ['address', 'name', 'phone'], confidence: 'confirmed', type: 'recipient' },
  c7: { categories: ['email', 'name', 'phone'], confidence: 'confirmed', type: 'customer' },
  c9: {
    categories: ['address', 'name', 'order_history', 'phone'],
    confidence: 'confirmed',
    type: 'customer',
  },
  r2: { categories: ['address', 'name', 'phone'], confidence: 'probable', type: 'recipient' },
  c10: { categories: ['email', 'name', 'phone'], confidence: 'confirmed', type: 'customer' },
};

interface Row {
  subject_id: string;
  subject_type: string;
  categories: string[];
  confidence: string;
  events: number;
  indicator: string;
  first_exposed: string;
}

let dir: string;
let ws: Workspace;
let first: ScopeSummary;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-scope-'));
  ws = await openWorkspace(path.join(dir, 'ws'));
  const { counts } = await ingestInputs(ws, [FIXTURE], { reference: { catalog: CATALOG } });
  assert.equal(counts.stored, 22);
  first = await scopeIncident(ws, INCIDENT, { who: 'tester' });
});

after(async () => {
  await ws?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function rows(cid: string): Promise<Row[]> {
  return ws.engine.query<Row>(
    `SELECT subject_id, toString(subject_type) AS subject_type, CAST(categories, 'Array(String)') AS categories,
       toString(confidence) AS confidence, events, toString(indicator) AS indicator, toString(first_exposed) AS first_exposed
     FROM exposures WHERE computation_id = {cid:String} ORDER BY subject_id`,
    { cid },
  );
}

function precisionRecall(found: Set<string>, truth: Set<string>): { precision: number; recall: number } {
  const hit = [...found].filter((x) => truth.has(x)).length;
  return { precision: found.size ? hit / found.size : 1, recall: truth.size ? hit / truth.size : 1 };
}

test('subjects and (subject, category) pairs match the ground truth exactly', async () => {
  const got = await rows(first.computation_id);
  const subjects = precisionRecall(new Set(got.map((r) => r.subject_id)), new Set(Object.keys(TRUTH)));
  const pairs = precisionRecall(
    new Set(got.flatMap((r) => r.categories.map((c) => `${r.subject_id}/${c}`))),
    new Set(Object.entries(TRUTH).flatMap(([s, t]) => t.categories.map((c) => `${s}/${c}`))),
  );
  assert.deepEqual(subjects, { precision: 1, recall: 1 });
  assert.deepEqual(pairs, { precision: 1, recall: 1 });
  for (const r of got) {
    assert.deepEqual(r.categories, TRUTH[r.subject_id]?.categories, r.subject_id);
    assert.equal(r.subject_type, TRUTH[r.subject_id]?.type, r.subject_id);
  }
  assert.equal(first.subjects, 8);
  assert.deepEqual(first.by_subject_type, { customer: 6, recipient: 2 });
  // The forged read before the incident window still counts (c3, 2025-06-05).
  assert.equal(first.first_exposed, '2025-06-05T03:00:00.000Z');
});

test('confirmed vs probable on the shared NAT address', async () => {
  const got = new Map((await rows(first.computation_id)).map((r) => [r.subject_id, r]));
  for (const [s, t] of Object.entries(TRUTH)) assert.equal(got.get(s)?.confidence, t.confidence, s);
  assert.deepEqual(first.by_confidence, { confirmed: 7, probable: 1 });
  // c9 was read with a forged token on the NAT (confirmed) and with an issued one (probable).
  assert.equal(got.get('c9')?.events, 2);
  assert.match(got.get('c9')?.indicator ?? '', /^forged token signed by k-app/);
  assert.equal(got.get('r2')?.indicator, 'shared address 198.51.100.9 + account the attacker used');
  // Benign customers on the same NAT (c1, c4 and recipient r3) are not in scope.
  for (const s of ['c1', 'c4', 'r3', 'c5', 'c8']) assert.equal(got.has(s), false, s);
});

test('expansion follows the forged keys to new addresses and stops at the shared one', () => {
  const step = (type: string, id: string) =>
    first.expansion.find((s) => s.entity.type === type && s.entity.id === id);
  assert.equal(step('ip', '203.0.113.7')?.verdict, 'attacker-only');
  assert.equal(step('ip', '198.51.100.9')?.verdict, 'shared');
  assert.equal(step('key', 'k-old')?.origin, 'found');
  assert.equal(step('ip', '192.0.2.50')?.verdict, 'attacker-only');
  assert.equal(step('ip', '192.0.2.50')?.origin, 'found');
  assert.equal(step('ip', '192.0.2.77')?.verdict, 'attacker-only');
  assert.ok((step('key', 'k-app')?.events ?? 0) >= 4);
});

test('not-exposed categories carry their evidence', () => {
  assert.deepEqual([...first.not_exposed].sort(), ['credential', 'payment']);
  const payment = first.not_exposed_evidence.find((e) => e.category === 'payment');
  assert.deepEqual(payment?.operations, [
    { operation: 'GetPaymentMethods', attacker_calls: 1, successful_calls: 0 },
  ]);
  assert.equal(payment?.provable, true);
  const credential = first.not_exposed_evidence.find((e) => e.category === 'credential');
  assert.match(
    credential?.statement ?? '',
    /no attacker event called an operation that returns it \(ChangePassword\)/,
  );
  assert.equal(first.by_category.payment, undefined);
  const orders = first.by_operation.find((o) => o.operation === 'GetShippingAddresses');
  assert.deepEqual([orders?.views, orders?.people], [2, 4]);
});

test('a stored computation is reused; a catalog change rescopes without re-ingest', async () => {
  const again = await scopeIncident(ws, INCIDENT, { who: 'tester' });
  assert.equal(again.reused, true);
  assert.equal(again.computation_id, first.computation_id);
  await loadCatalog(ws.engine, CATALOG_V2);
  const rescoped = await scopeIncident(ws, INCIDENT, { who: 'tester' });
  assert.equal(rescoped.reused, false);
  assert.notEqual(rescoped.computation_id, first.computation_id);
  assert.equal(rescoped.by_category.payment, 1);
  assert.deepEqual(rescoped.not_exposed, ['credential']);
  const c9 = (await rows(rescoped.computation_id)).find((r) => r.subject_id === 'c9');
  assert.deepEqual(c9?.categories, ['address', 'name', 'order_history', 'payment', 'phone']);
  await loadCatalog(ws.engine, CATALOG);
});

test('exports in jsonl, csv and parquet read back; each export and scope is audited', async () => {
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  const jsonl = await writeExposureFile(ws, INCIDENT, path.join(out, 'x.jsonl'), { who: 'tester' });
  const lines = fs
    .readFileSync(jsonl.file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, jsonl.rows);
  const r1 = lines.find((l) => l.subject_id === 'r1');
  assert.deepEqual(Object.keys(r1), [
    'subject_id',
    'subject_type',
    'categories',
    'first_exposed',
    'last_exposed',
    'events',
    'confidence',
    'indicator',
  ]);
  assert.deepEqual(r1.categories, ['address', 'name', 'phone']);
  assert.equal(r1.first_exposed, '2025-06-10T03:00:02.000Z');

  const csv = await writeExposureFile(ws, INCIDENT, path.join(out, 'x.csv'), { who: 'tester' });
  const csvLines = fs.readFileSync(csv.file, 'utf8').trim().split('\n');
  assert.equal(
    csvLines[0],
    '"subject_id","subject_type","categories","first_exposed","last_exposed","events","confidence","indicator"',
  );
  assert.equal(csvLines.length, lines.length + 1);
  assert.ok(csvLines.some((l) => l.startsWith('"r2","recipient","address;name;phone"')));

  const pq = await writeExposureFile(ws, INCIDENT, path.join(out, 'x.parquet'), { who: 'tester' });
  const back = await ws.engine.query<{ subject_id: string; categories: string[]; confidence: string }>(
    `SELECT subject_id, categories, confidence FROM file({p:String}, Parquet) ORDER BY subject_id`,
    { p: pq.file },
  );
  assert.deepEqual(
    back.map((r) => r.subject_id),
    lines.map((l) => l.subject_id),
  );
  assert.deepEqual(back.find((r) => r.subject_id === 'c9')?.categories, [
    'address',
    'name',
    'order_history',
    'phone',
  ]);

  const audit = await listAudit(ws.engine);
  const computes = audit.filter((a) => a.action === 'scope.compute');
  const exports = audit.filter((a) => a.action === 'scope.export');
  // The first scope, the rescope under catalog v2, and the export's rescope after catalog v1 came
  // back (a new catalog load); the reuse computed nothing.
  assert.equal(computes.length, 3);
  assert.deepEqual(
    exports.map((e) => [path.basename(e.target), e.rows, e.who]),
    [
      ['x.jsonl', 8, 'tester'],
      ['x.csv', 8, 'tester'],
      ['x.parquet', 8, 'tester'],
    ],
  );
  // The audit never holds subject ids.
  for (const a of audit) assert.doesNotMatch(JSON.stringify(a), /"(c\d+|r\d+)"|\bc9\b|\br2\b/);
});
