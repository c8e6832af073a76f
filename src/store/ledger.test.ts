import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ingestInputs } from '../sources/index.ts';
import {
  ledgerCovers,
  neverIssuedFromLedgerSql,
  openWorkspace,
  TRUNCATE_LEDGER,
  type Workspace,
} from './index.ts';

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
  // And where their calls came from, with the accounts seen there.
  const uses = await ws.engine.query<{ token_id: string; ip: string; actors: string[] }>(
    `SELECT token_id, replaceOne(IPv6NumToString(src_ip), '::ffff:', '') AS ip, actors
     FROM unmatched_token_uses ORDER BY token_id`,
  );
  assert.deepEqual(uses, [
    { token_id: 'forged', ip: '198.51.100.9', actors: ['c-forged'] },
    { token_id: 'late', ip: '198.51.100.9', actors: ['c-late'] },
    { token_id: 'old', ip: '198.51.100.9', actors: ['c-old'] },
  ]);
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
  // The candidate table that stores above a few million events use (read when scope loads).
  process.env.VIGIL_SCOPE_DIRECT_MAX = '0';
  const { scopeIncident } = await import('../scope/index.ts');
  const incident = {
    id: 'inc-ledger',
    first_seen: '2025-06-10T00:00:00Z',
    last_seen: '2025-06-11T00:00:00Z',
    entities: [{ type: 'key' as const, id: 'k-app' }],
  };
  // Passes over `events` that fill the candidate table (forced on, as above a few million events).
  let passes = 0;
  const exec = ws.engine.exec.bind(ws.engine);
  ws.engine.exec = (sql, params) => {
    if (/^\s*INSERT INTO scope_rows_/.test(sql)) passes++;
    return exec(sql, params);
  };
  const scope = async (recompute: boolean) => {
    passes = 0;
    return { summary: await scopeIncident(ws, incident, { who: 'tester', recompute }), passes };
  };
  const before = await scope(false);
  assert.equal(await ledgerCovers(ws.engine), true);
  assert.deepEqual(await sorted(neverIssuedFromLedgerSql()), ['forged', 'unrecorded']);
  // The next scope reads the ledger and finds the same people.
  const after = await scope(true);
  assert.equal(after.summary.subjects, before.summary.subjects);
  assert.ok(before.summary.subjects > 0);
  // The rebuilt ledger does not say where the calls came from: a second pass copies those rows.
  assert.equal(after.passes, 2);
  // Stored again through ingest, the ledger says it: the first pass copies them too.
  await ws.engine.exec('TRUNCATE TABLE events');
  for (const statement of TRUNCATE_LEDGER) await ws.engine.exec(statement);
  await ingestInputs(
    ws,
    ['early.jsonl', 'a.jsonl', 'b.jsonl'].map((f) => path.join(dir, f)),
  );
  assert.equal(await ledgerCovers(ws.engine), true);
  const recorded = await scope(true);
  assert.equal(recorded.passes, 1);
  assert.deepEqual(recorded.summary.by_category, before.summary.by_category);
  assert.equal(recorded.summary.subjects, before.summary.subjects);
});
