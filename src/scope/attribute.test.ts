import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ingestInputs } from '../sources/index.ts';
import { openWorkspace, type Workspace } from '../store/index.ts';
import { type ScopeIncident, type ScopeSummary, scopeIncident } from './index.ts';

/**
 * The paths of attribution that scope.test.ts does not walk (attribute.fixture.ndjson, a `_note`
 * per line): a token the login service really issued at the attacker-only address H, used from
 * another address X; X judged with the attacker's own (not forged) calls left out; and a second
 * round that is needed because X has an event nothing else covers.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE = path.join(here, 'attribute.fixture.ndjson');
const CATALOG = path.join(here, 'scope.fixture.catalog.yaml');

const INCIDENT: ScopeIncident = {
  id: 'inc-attr',
  first_seen: '2025-06-10T00:00:00Z',
  last_seen: '2025-06-11T00:00:00Z',
  entities: [{ type: 'ip', id: '203.0.113.7' }],
};

let dir: string;
let ws: Workspace;
let summary: ScopeSummary;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-attr-'));
  ws = await openWorkspace(path.join(dir, 'ws'));
  const { counts } = await ingestInputs(ws, [FIXTURE], { reference: { catalog: CATALOG } });
  assert.equal(counts.stored, 7);
  summary = await scopeIncident(ws, INCIDENT, { who: 'tester' });
});

after(async () => {
  await ws?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a token issued at an attacker-only address is the attacker’s wherever it is used', async () => {
  const rows = await ws.engine.query<{ subject_id: string; indicator: string }>(
    `SELECT subject_id, toString(indicator) AS indicator FROM exposures
     WHERE computation_id = {cid:String} ORDER BY subject_id`,
    { cid: summary.computation_id },
  );
  assert.deepEqual(rows, [
    { subject_id: 'c20', indicator: 'token issued to an attacker-only address' },
    { subject_id: 'c22', indicator: 'token issued to an attacker-only address' },
  ]);
  const step = summary.expansion.find((s) => s.entity.id === '(tokens issued at attacker-only addresses)');
  assert.equal(step?.events, 2);
});

test('an address found through the attacker’s own issued-token calls stays attacker-only', () => {
  const x = summary.expansion.find((s) => s.entity.type === 'ip' && s.entity.id === '192.0.2.99');
  assert.equal(x?.origin, 'found');
  assert.equal(x?.verdict, 'attacker-only');
});

test('a second round adds what only the found address ties to the attacker', () => {
  assert.deepEqual(summary.by_indicator, {
    'token issued to an attacker-only address': 2,
    'attacker-only address 203.0.113.7': 1,
    'attacker-only address 192.0.2.99': 1,
  });
  assert.deepEqual(summary.events, { attributed: 4, confirmed: 4, probable: 0, exposing: 2 });
  assert.equal(summary.subjects, 2);
});
