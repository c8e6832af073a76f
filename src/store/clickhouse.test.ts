import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ClickHouseServerEngine } from './clickhouse.ts';
import { type LocalCluster, startLocalCluster, stopLocalCluster } from './cluster-script.ts';
import { migrations } from './migrations/index.ts';
import { openWorkspace, type Workspace } from './workspace.ts';

/**
 * Vigil on a two-shard ClickHouse 18.16 cluster (Debian's package, started by
 * scripts/clickhouse-cluster.sh): migrations through the legacy dialect, MergeTree tables as
 * `<t>_local` on each shard under a Distributed `<t>`, rows spread over both shards and visible
 * through either server.
 */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-cluster-'));
const db = `vigil_t${process.pid}`;
let cluster: LocalCluster | { skip: string };
let ws: Workspace | null = null;
const opened: ClickHouseServerEngine[] = [];

const url = (port: number, limit = 60, extra = '') =>
  `clickhouse://default@127.0.0.1:${port}/${db}?max_execution_time=${limit}${extra}`;
const clusterUrl = (c: LocalCluster) =>
  url(c.http[0], 60, `&cluster=vigil&nodes=127.0.0.1:${c.http[0]},127.0.0.1:${c.http[1]}`);
/** A plain (non-cluster) connection to one server, to look at what that shard holds. */
async function server(port: number, limit = 60): Promise<ClickHouseServerEngine> {
  const e = await ClickHouseServerEngine.connect(url(port, limit));
  opened.push(e);
  return e;
}

before(async () => {
  cluster = startLocalCluster(path.join(tmp, 'cluster'), 19000, 18123);
  if ('skip' in cluster) return;
  ws = await openWorkspace(path.join(tmp, 'home'), { engineUrl: clusterUrl(cluster) });
});

after(async () => {
  for (const e of opened) await e.close();
  await ws?.close();
  if (cluster && !('skip' in cluster)) stopLocalCluster(cluster.dir);
  fs.rmSync(tmp, { recursive: true, force: true });
});

function live(t: { skip(m: string): void }): { ws: Workspace; c: LocalCluster } | null {
  if ('skip' in cluster) {
    t.skip(cluster.skip);
    return null;
  }
  return { ws: ws as Workspace, c: cluster };
}

test('every migration applies on 18.16, as local tables on both shards under Distributed ones', async (t) => {
  const l = live(t);
  if (!l) return;
  const e = l.ws.engine;
  assert.equal(e.dialect.name, 'clickhouse-18');
  const [v] = await e.query<{ v: number }>('SELECT max(version) AS v FROM schema_migrations');
  assert.equal(v?.v, migrations[migrations.length - 1]?.version);
  for (const port of l.c.http) {
    const s = await server(port);
    const tables = await s.query<{ name: string; engine: string }>(
      'SELECT name, engine FROM system.tables WHERE database = {db:String} AND name IN ({names:Array(String)}) ORDER BY name',
      { db, names: ['events', 'events_local', 'people', 'people_local', 'people_current'] },
    );
    assert.deepEqual(tables, [
      { name: 'events', engine: 'Distributed' },
      { name: 'events_local', engine: 'MergeTree' },
      { name: 'people', engine: 'Distributed' },
      { name: 'people_current', engine: 'View' },
      { name: 'people_local', engine: 'MergeTree' },
    ]);
    // A column added later reaches the local table and the Distributed one over it.
    const added = await s.query<{ table: string }>(
      "SELECT table FROM system.columns WHERE database = {db:String} AND name = 'first_line' ORDER BY table",
      { db },
    );
    assert.deepEqual(
      added.map((r) => r.table),
      ['ingests', 'ingests_local'],
    );
  }
});

const N = 400;
const tricky = "o'brien\\tab\there";
function events() {
  return Array.from({ length: N }, (_, i) => ({
    event_id: `e-${i}`,
    time: `2025-06-24T10:${String(i % 60).padStart(2, '0')}:07.${String(i % 1000).padStart(3, '0')}Z`,
    class_uid: i % 5 === 0 ? 3002 : 6003,
    activity_id: 1,
    status_id: 1,
    actor_uid: `u-${i % 7}`,
    token_id: `t-${i % 11}`,
    key_id: i % 2 ? 'k-2019' : 'k-2024',
    token_created_ms: 1719216000123,
    src_ip: i % 3 === 0 ? `2406:5900:2:${i.toString(16)}::9` : `203.0.113.${i % 250}`,
    url_path: '/v1/me/addresses',
    subject_ids: [`c-${i}`, tricky],
    subject_types: ['customer', 'recipient'],
    http_status: 200,
    source_file: 'test.jsonl',
    source_line: i + 1,
    ingested_at: Math.floor(Date.now() / 1000),
  }));
}

test('events inserted through the Distributed table land on both shards; either server sees all', async (t) => {
  const l = live(t);
  if (!l) return;
  await l.ws.engine.insert('events', events());
  const perShard: number[] = [];
  for (const port of l.c.http) {
    const s = await server(port);
    const [local] = await s.query<{ n: number }>('SELECT count() AS n FROM events_local');
    perShard.push(local?.n ?? 0);
    const [all] = await s.query<{ n: number; ids: number }>(
      'SELECT count() AS n, uniqExact(event_id) AS ids FROM events',
    );
    assert.deepEqual(all, { n: N, ids: N }, `all rows through the server on ${port}`);
  }
  assert.ok(
    perShard.every((n) => n > 0),
    `rows on every shard: ${perShard}`,
  );
  assert.equal(
    perShard.reduce((a, b) => a + b, 0),
    N,
  );
});

test('values survive the trip: addresses, arrays with quotes and tabs, times to the second', async (t) => {
  const l = live(t);
  if (!l) return;
  const d = l.ws.engine.dialect;
  const s = await server(l.c.http[1]);
  const rows = await s.query<{
    ip: string;
    subnet: string;
    subjects: string[];
    t: string;
    ms: number;
    created: number;
  }>(
    `SELECT ${d.sqlIpToString('src_ip')} AS ip, ${d.sqlSubnet('src_ip')} AS subnet, subject_ids AS subjects,
       toString(time) AS t, ${d.sqlEpochMs('time')} AS ms, token_created_ms AS created
     FROM events WHERE event_id IN ({ids:Array(String)}) ORDER BY event_id`,
    { ids: ['e-3', 'e-4'] },
  );
  assert.deepEqual(rows, [
    {
      ip: '2406:5900:2:3::9',
      subnet: '2406:5900:2::/48',
      subjects: ['c-3', tricky],
      t: '2025-06-24 10:03:07',
      ms: 1750759387000,
      created: 1719216000123,
    },
    {
      ip: '203.0.113.4',
      subnet: '203.0.113.0/24',
      subjects: ['c-4', tricky],
      t: '2025-06-24 10:04:07',
      ms: 1750759447000,
      created: 1719216000123,
    },
  ]);
});

test('detector-shaped SQL runs on the cluster with inlined parameters', async (t) => {
  const l = live(t);
  if (!l) return;
  const e = l.ws.engine;
  const d = e.dialect;
  const rows = await e.query<{ key_id: string; window: string; subjects: number; ips: number }>(
    `SELECT key_id, toString(${d.sqlWindowStart('time', 3600)}) AS window,
       ${d.sqlExactDistinct('subject')} AS subjects, uniqExact(src_ip) AS ips
     FROM events ARRAY JOIN subject_ids AS subject
     WHERE time >= {from:DateTime('UTC')} AND key_id = {key:String} AND src_ip != ${d.sqlIpFromString('{ip:String}')}
     GROUP BY key_id, window HAVING subjects > {min:UInt32}`,
    { from: '2025-06-24T00:00:00Z', key: 'k-2019', ip: '198.51.100.1', min: 10 },
  );
  assert.equal(rows.length, 1);
  const [r] = rows;
  assert.deepEqual(
    { ...r, ips: 0 },
    { key_id: 'k-2019', window: '2025-06-24 10:00:00', subjects: N / 2 + 1, ips: 0 },
  );
  assert.ok((r?.ips ?? 0) > 50, `distinct addresses: ${r?.ips}`);
});

test('reference views aggregate across shards', async (t) => {
  const l = live(t);
  if (!l) return;
  const people = Array.from({ length: 60 }, (_, i) => ({
    load_seq: 1,
    person_id: `p-${i}`,
    principal_ids: [`u-${i}`],
    department: 'eng',
    role: 'engineer',
    country: 'KR',
    hired_on: '2020-01-01',
    left_on: i === 0 ? '2025-01-01' : null,
  }));
  await l.ws.engine.insert('people', people);
  await l.ws.engine.insert('people', [{ ...people[0], load_seq: 2, department: 'auth' }]);
  const s = await server(l.c.http[1]);
  const rows = await s.query<{ n: number; dept: string; left_on: string | null }>(
    `SELECT count() AS n, anyIf(department, person_id = 'p-0') AS dept, toString(anyIf(left_on, person_id = 'p-0')) AS left_on
     FROM people_current`,
  );
  assert.deepEqual(rows, [{ n: 60, dept: 'auth', left_on: '2025-01-01' }]);
});

test('every query is bounded: a long query stops at max_execution_time, a left stream is killed', async (t) => {
  const l = live(t);
  if (!l) return;
  const quick = await server(l.c.http[0], 1);
  const started = Date.now();
  await assert.rejects(
    quick.query('SELECT count() FROM system.numbers WHERE sipHash64(number) = 1'),
    /[Tt]imeout exceeded/,
  );
  assert.ok(Date.now() - started < 10_000, `stopped after ${Date.now() - started} ms`);

  const e = l.ws.engine;
  for await (const batch of e.stream<{ number: number }>(
    "SELECT number, 'vigil-left-stream' FROM system.numbers",
  )) {
    assert.ok(batch.length > 0);
    break;
  }
  let running = 1;
  for (let i = 0; i < 40 && running > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const [p] = await e.query<{ n: number }>(
      "SELECT count() AS n FROM system.processes WHERE query LIKE '%vigil-left-stream%' AND query NOT LIKE '%system.processes%'",
    );
    running = p?.n ?? 0;
  }
  assert.equal(running, 0, 'the abandoned stream still runs on the server');
});
