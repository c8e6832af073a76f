import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { scopeIncident } from '../scope/index.ts';
import { ingestInputs } from '../sources/index.ts';
import { ledgerCovers, neverIssuedFromLedgerSql, openWorkspace, type Workspace } from './index.ts';

/**
 * The token ledger through real ingests: what each batch lists, and that the scope's never-issued
 * tokens read from it equal those of grouping every event, whatever order issuances arrive in.
 */
const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 5, 10, 12);
let seq = 0;
const issue = (token: string, at: number) =>
  JSON.stringify({
    time: at,
    class_uid: 3002,
    activity_id: 3,
    status_id: 1,
    user: { uid: `c-${token}`, type: 'Customer' },
    session: { uid: token, credential_uid: 'k-app' },
    src_endpoint: { ip: '198.51.100.9' },
    metadata: { uid: `e-${++seq}` },
  });
const call = (token: string, at: number) =>
  JSON.stringify({
    time: at,
    class_uid: 6003,
    activity_id: 2,
    status_id: 1,
    actor: {
      user: { uid: `c-${token}`, type: 'Customer' },
      session: { uid: token, credential_uid: 'k-app' },
    },
    src_endpoint: { ip: '198.51.100.9' },
    api: { operation: 'GetProfile' },
    resources: [{ uid: `c-${token}`, type: 'customer' }],
    metadata: { uid: `e-${++seq}` },
  });

let dir: string;
let ws: Workspace;
const file = (name: string, lines: string[]) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
};

const groupedNeverIssued = `SELECT token_id FROM events
  WHERE token_id != '' AND (class_uid = 6003 OR (class_uid = 3002 AND activity_id = 3))
  GROUP BY token_id HAVING min(class_uid) = 6003 ORDER BY token_id`;
const sorted = async (sql: string) =>
  (await ws.engine.query<{ token_id: string }>(sql)).map((r) => r.token_id).sort();

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ledger-'));
  ws = await openWorkspace(path.join(dir, 'ws'));
});

after(async () => {
  await ws?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('each batch lists the tokens no nearby issuance explains; the never-issued ones equal a full grouping', async () => {
  // Earlier file: `near` is issued an hour before file A's calls, `same-file` nothing yet.
  await ingestInputs(ws, [file('early.jsonl', [issue('near', T0 - HOUR)])]);
  // File A: `near` (issued in the store, an hour back), `inside` (issued in the same file),
  // `late` (issued in a file ingested afterwards), `old` (issued 3 days earlier, also ingested
  // afterwards) and `forged` (never issued).
  await ingestInputs(ws, [
    file('a.jsonl', [
      call('near', T0),
      issue('inside', T0 + 1000),
      call('inside', T0 + 2000),
      call('late', T0 + 3000),
      call('old', T0 + 4000),
      call('forged', T0 + 5000),
      call('forged', T0 + 6000),
    ]),
  ]);
  const listed = await ws.engine.query<{ token_id: string }>(
    `SELECT token_id FROM unmatched_tokens ORDER BY token_id`,
  );
  assert.deepEqual(
    listed.map((r) => r.token_id),
    ['forged', 'late', 'old'],
  );
  await ingestInputs(ws, [file('b.jsonl', [issue('late', T0 + 30_000), issue('old', T0 - 72 * HOUR)])]);
  assert.equal(await ledgerCovers(ws.engine), true);
  assert.deepEqual(await sorted(neverIssuedFromLedgerSql()), ['forged']);
  assert.deepEqual(await sorted(groupedNeverIssued), ['forged']);
  // Ingesting a file again stores nothing and keeps the ledger whole.
  await ingestInputs(ws, [path.join(dir, 'a.jsonl')]);
  assert.equal(await ledgerCovers(ws.engine), true);
  const [batches] = await ws.engine.query<{ n: number; events: number }>(
    'SELECT count() AS n, sum(events) AS events FROM token_batches',
  );
  assert.deepEqual({ n: Number(batches?.n), events: Number(batches?.events) }, { n: 4, events: 10 });
});

test('events written outside a recorded batch leave the ledger uncovered', async () => {
  await ws.engine.insert('events', [
    {
      event_id: 'direct-1',
      time: '2025-06-10 12:00:00.000',
      class_uid: 6003,
      activity_id: 2,
      status_id: 1,
      token_id: 'unrecorded',
      src_ip: '198.51.100.9',
    },
  ]);
  assert.equal(await ledgerCovers(ws.engine), false);
  assert.deepEqual(await sorted(groupedNeverIssued), ['forged', 'unrecorded']);
});

test('a scope on a store the ledger does not cover groups every event, then rebuilds the ledger', async () => {
  const incident = {
    id: 'inc-ledger',
    first_seen: '2025-06-10T00:00:00Z',
    last_seen: '2025-06-11T00:00:00Z',
    entities: [{ type: 'key' as const, id: 'k-app' }],
  };
  const before = await scopeIncident(ws, incident, { who: 'tester' });
  assert.equal(await ledgerCovers(ws.engine), true);
  assert.deepEqual(await sorted(neverIssuedFromLedgerSql()), ['forged', 'unrecorded']);
  // The next scope reads the ledger and finds the same people.
  const after = await scopeIncident(ws, incident, { who: 'tester', recompute: true });
  assert.equal(after.subjects, before.subjects);
  assert.ok(before.subjects > 0);
});
