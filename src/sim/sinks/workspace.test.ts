import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sqlEnrichAddresses } from '../../sources/enrich/index.ts';
import { FILE_LINES } from '../../sources/ocsf/ingest.ts';
import { EVENT_COLUMNS, ocsf } from '../../sources/ocsf/parse.ts';
import { catalogSql, currentCatalog } from '../../sources/reference/index.ts';
import { ledgerCovers, neverIssuedFromLedgerSql, TRUNCATE_LEDGER } from '../../store/index.ts';
import { tempWorkspace } from '../../store/testing.ts';
import { SCENARIOS } from '../scenarios/index.ts';
import { type SimulationOptions, simulate } from '../simulate.ts';
import { MemorySink } from '../sink.ts';
import { type IntoWorkspaceResult, simulateIntoWorkspace } from './into-workspace.ts';

const SHARDS = 3;
const BASE = 2_000;
const OPTIONS: SimulationOptions = {
  customers: BASE * SHARDS,
  days: 2,
  seed: 11,
  start: '2025-06-01',
  intensity: 1,
  // Scenarios start at a fraction of the period: squeeze each into these two days.
  scenarios: SCENARIOS.map((s) => ({
    name: s.name,
    params: s.name === 'departed-account' ? {} : ({ startDay: 1, durationDays: 1 } as Record<string, number>),
  })),
};

interface Truth {
  customers: number;
  base_customers: number;
  shards: number;
  scenarios: {
    id: string;
    events: number;
    attacker: { type: string; id: string }[];
    affected: Record<string, string[]>;
  }[];
}

/** Which shard a stored row is in, from its event id (`ev-X` base, `ev-k-X` copy k). */
const SHARD_OF = `if(match(event_id, '^ev-[0-9]+-'), toUInt32(splitByChar('-', event_id)[2]), 0)`;

describe('simulate into a workspace (amplified)', () => {
  let ws: Awaited<ReturnType<typeof tempWorkspace>>;
  let out: string;
  let run: IntoWorkspaceResult;
  let truth: Truth;
  const q = async <T>(sql: string, params?: Record<string, string | number | string[]>) =>
    ws.engine.query<T>(sql, params);
  const one = async (sql: string, params?: Record<string, string | number | string[]>) =>
    Number((await q<{ n: number }>(sql, params))[0]?.n);

  before(async () => {
    ws = await tempWorkspace('vigil-simws-');
    out = mkdtempSync(path.join(os.tmpdir(), 'vigil-simws-out-'));
    run = await simulateIntoWorkspace(ws, OPTIONS, { out, shards: SHARDS });
    truth = JSON.parse(readFileSync(path.join(out, 'truth.json'), 'utf8')) as Truth;
    await ws.engine.exec('CREATE TABLE t_attack (event_id String, scenario String) ENGINE = Memory');
    await ws.engine.insert(
      't_attack',
      [...run.attacks].map(([event_id, scenario]) => ({ event_id, scenario })),
    );
  });
  after(async () => {
    await ws?.dispose();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('stores the base shard exactly as the JSON output (deduplicated), plus reference data', async () => {
    const sink = new MemorySink();
    await simulate({ ...OPTIONS, customers: BASE }, sink);
    const ids = new Set(
      sink.lines().map((l) => (JSON.parse(l) as { metadata: { uid: string } }).metadata.uid),
    );
    assert.equal(run.quarantined, 0);
    assert.equal(run.baseRows, ids.size);
    assert.equal(await one(`SELECT count() AS n FROM events WHERE ${SHARD_OF} = 0`), ids.size);
    const missing = await one(
      `SELECT count() AS n FROM events WHERE ${SHARD_OF} = 0 AND event_id NOT IN {ids:Array(String)}`,
      { ids: [...ids] },
    );
    assert.equal(missing, 0);
    assert.equal(truth.customers, BASE * SHARDS);
    assert.equal(truth.base_customers, BASE);
    assert.ok((await one('SELECT count() AS n FROM people_current')) > 10);
    assert.ok((await one('SELECT count() AS n FROM keys_current')) >= 5);
    // Every column of the base rows (stored from typed rows, not parsed) is what the OCSF parser
    // makes of the JSON lines of the same run; of a line delivered twice, the first is kept.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-simws-json-'));
    try {
      await ws.engine.exec(
        `CREATE TABLE t_parsed ENGINE = Memory AS SELECT * FROM (${ocsf.parseSelect(ws.engine.dialect, FILE_LINES)}) LIMIT 0`,
        { file: '/dev/null', label: '', maxLine: 1 << 20, firstLine: 1 },
      );
      for (const [day, chunks] of sink.days) {
        const file = path.join(dir, `${day}.jsonl`);
        writeFileSync(file, chunks.join(''));
        await ws.engine.exec(`INSERT INTO t_parsed ${ocsf.parseSelect(ws.engine.dialect, FILE_LINES)}`, {
          file,
          label: `events/${day}.jsonl`,
          maxLine: 1 << 20,
          firstLine: 1,
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // As text: the parser's and the table's types differ (LowCardinality), and EXCEPT compares types.
    const compared = EVENT_COLUMNS.filter((c) => c !== 'ingested_at')
      .map((c) => `toString(${c}) AS ${c}`)
      .join(', ');
    const parsed = `SELECT ${compared} FROM (SELECT * FROM t_parsed WHERE reason = '' ORDER BY source_file, source_line LIMIT 1 BY event_id)`;
    const stored = `SELECT ${compared} FROM events WHERE ${SHARD_OF} = 0`;
    assert.equal(await one(`SELECT count() AS n FROM (${parsed})`), ids.size);
    assert.equal(await one(`SELECT count() AS n FROM (${parsed} EXCEPT ${stored})`), 0);
    assert.equal(await one(`SELECT count() AS n FROM (${stored} EXCEPT ${parsed})`), 0);
    await ws.engine.exec('DROP TABLE t_parsed');
  });

  it('row counts: base + (shards − 1) × replicable base rows; attack events stored once', async () => {
    const attackRows = await one(
      'SELECT count() AS n FROM events WHERE event_id IN (SELECT event_id FROM t_attack)',
    );
    assert.ok(run.attacks.size > 100, 'the scenarios produced attack events');
    assert.equal(attackRows, run.attacks.size);
    assert.equal(
      truth.scenarios.reduce((n, s) => n + s.events, 0),
      run.attacks.size,
    );
    const services = ['svc-shipping-label', 'svc-fraud-check', 'svc-notify'];
    const replicable = await one(
      `SELECT count() AS n FROM events WHERE ${SHARD_OF} = 0
         AND (startsWith(actor_uid, 'c-') OR actor_uid IN {services:Array(String)})
         AND event_id NOT IN (SELECT event_id FROM t_attack)`,
      { services },
    );
    const perShard = await q<{ shard: number; n: number }>(
      `SELECT ${SHARD_OF} AS shard, count() AS n FROM events GROUP BY shard ORDER BY shard`,
    );
    assert.deepEqual(
      perShard.map((r) => Number(r.shard)),
      [0, 1, 2],
    );
    for (const r of perShard.slice(1)) assert.equal(Number(r.n), replicable);
    assert.equal(run.replicaRows, replicable * (SHARDS - 1));
    const total = await one('SELECT count() AS n FROM events');
    assert.equal(total, run.baseRows + replicable * (SHARDS - 1));
    // Copies are the base rows with identities remapped: same time, operation, key, status.
    const unlike = await one(
      `SELECT count() AS n FROM events AS r
       INNER JOIN (SELECT * FROM events WHERE ${SHARD_OF} = 0) AS b
         ON b.event_id = concat('ev-', splitByChar('-', r.event_id)[3])
       WHERE r.event_id LIKE 'ev-%-%' AND (r.time != b.time OR r.operation != b.operation OR r.key_id != b.key_id
         OR r.status_id != b.status_id OR r.class_uid != b.class_uid OR length(r.subject_ids) != length(b.subject_ids)
         OR r.actor_uid = b.actor_uid AND startsWith(b.actor_uid, 'c-'))`,
    );
    assert.equal(unlike, 0);
    // The ledger reconciles: every stored row is accounted for by an ingest line.
    assert.equal(await one('SELECT sum(stored) AS n FROM ingests'), total);
  });

  it('the token ledger covers base days and copies: the never-issued tokens equal those of grouping every event', async () => {
    assert.equal(await ledgerCovers(ws.engine), true);
    const tokens = async (sql: string) => (await q<{ token_id: string }>(sql)).map((r) => r.token_id).sort();
    // The ledger may list more (a forged base token's copies, which no copied event carries).
    const fromLedger = await tokens(`SELECT token_id FROM (${neverIssuedFromLedgerSql()})
      WHERE token_id IN (SELECT token_id FROM events WHERE class_uid = 6003)`);
    assert.ok(fromLedger.length > 0, 'the scenarios forge tokens');
    assert.deepEqual(
      fromLedger,
      await tokens(`SELECT token_id FROM events
        WHERE token_id != '' AND (class_uid = 6003 OR (class_uid = 3002 AND activity_id = 3))
        GROUP BY token_id HAVING min(class_uid) = 6003`),
    );
  });

  it("truth's affected subjects are exactly what the stored attack events returned", async () => {
    const c = catalogSql(await currentCatalog(ws.engine), ws.engine.dialect, 'e');
    const rows = await q<{ scenario: string; subject: string; categories: string[] }>(
      `SELECT a.scenario AS scenario, s AS subject, arraySort(groupUniqArrayArray(${c.categories})) AS categories
       FROM events AS e INNER JOIN t_attack AS a ON a.event_id = e.event_id
       ARRAY JOIN e.subject_ids AS s
       WHERE e.class_uid = 6003 AND e.status_id = 1 AND length(${c.categories}) > 0
       GROUP BY scenario, subject`,
    );
    const fromStore = new Map<string, Record<string, string[]>>();
    for (const r of rows) {
      const m = fromStore.get(r.scenario) ?? {};
      m[r.subject] = r.categories;
      fromStore.set(r.scenario, m);
    }
    let subjects = 0;
    for (const s of truth.scenarios) {
      assert.deepEqual(fromStore.get(s.id) ?? {}, s.affected, s.id);
      subjects += Object.keys(s.affected).length;
    }
    assert.ok(subjects > 50, 'scenarios exposed subjects');
    // Every affected subject is a base customer or base recipient (victims live in shard 0).
    const maxBase = BASE;
    for (const s of truth.scenarios)
      for (const id of Object.keys(s.affected))
        if (id.startsWith('c-')) assert.ok(Number(id.slice(2)) <= maxBase, `${id} in shard 0`);
  });

  it('copies contain no attacker address, token, user agent, actor or person', async () => {
    const attackers = truth.scenarios.flatMap((s) => s.attacker);
    const of = (type: string) => [...new Set(attackers.filter((a) => a.type === type).map((a) => a.id))];
    const principals = (
      await q<{ p: string }>(
        `SELECT arrayJoin(principal_ids) AS p FROM people_current WHERE person_id IN {people:Array(String)}`,
        { people: of('person') },
      )
    ).map((r) => r.p);
    assert.ok(of('ip').length > 0 && of('token').length > 0 && of('user_agent').length > 0);
    const hits = await one(
      `SELECT count() AS n FROM events WHERE ${SHARD_OF} > 0 AND (
         replaceOne(toString(src_ip), '::ffff:', '') IN {ips:Array(String)} OR token_id IN {tokens:Array(String)}
         OR user_agent IN {uas:Array(String)} OR actor_uid IN {actors:Array(String)})`,
      { ips: of('ip'), tokens: of('token'), uas: of('user_agent'), actors: [...of('actor'), ...principals] },
    );
    assert.equal(hits, 0);
    // The guard is real: the base shard does hold those entities.
    const baseHits = await one(
      `SELECT count() AS n FROM events WHERE ${SHARD_OF} = 0 AND token_id IN {tokens:Array(String)}`,
      { tokens: of('token') },
    );
    assert.ok(baseHits > 0);
  });

  it('ids are unique across shards: events, requests, tokens, customers', async () => {
    const [u] = await q<{ n: number; e: number; r: number; rq: number }>(
      `SELECT count() AS n, uniqExact(event_id) AS e, countIf(request_id != '') AS r,
         uniqExactIf(request_id, request_id != '') AS rq FROM events`,
    );
    assert.equal(Number(u!.e), Number(u!.n));
    assert.equal(Number(u!.rq), Number(u!.r));
    const shared = await one(
      `SELECT count() AS n FROM (SELECT token_id FROM events WHERE token_id != ''
         GROUP BY token_id HAVING uniqExact(${SHARD_OF}) > 1)`,
    );
    assert.equal(shared, 0);
    // Customers of shard k are c-(kN+1) … c-((k+1)N), and appear in no other shard.
    const outOfRange = await one(
      `SELECT count() AS n FROM events WHERE startsWith(actor_uid, 'c-') AND ${SHARD_OF} > 0
         AND intDiv(toUInt32(substring(actor_uid, 3)) - 1, ${BASE}) != ${SHARD_OF}`,
    );
    assert.equal(outOfRange, 0);
  });

  it('moved addresses stay in their network: re-enrichment agrees with the copied values', async () => {
    const rows = await q<{ n: number; bad: number }>(
      `SELECT count() AS n, countIf(e.country != a.country OR e.asn != a.asn OR e.net_class != a.net_class) AS bad
       FROM (SELECT DISTINCT src_ip, country, asn, net_class FROM events WHERE ${SHARD_OF} > 0) AS e
       INNER JOIN (${sqlEnrichAddresses(`SELECT DISTINCT src_ip AS ip FROM events WHERE ${SHARD_OF} > 0`)}) AS a
         ON a.ip = e.src_ip`,
    );
    assert.ok(Number(rows[0]!.n) > 1000);
    assert.equal(Number(rows[0]!.bad), 0);
    // And the copies really moved: few shard-1 customer addresses are base addresses.
    const kept = await one(
      `SELECT countIf(src_ip IN (SELECT src_ip FROM events WHERE ${SHARD_OF} = 0)) / count() * 100 AS n
       FROM (SELECT DISTINCT src_ip FROM events WHERE ${SHARD_OF} = 1 AND startsWith(actor_uid, 'c-'))`,
    );
    assert.ok(kept < 5, `${kept}% of shard-1 customer addresses reused`);
  });

  it('refuses a workspace that already holds events', async () => {
    await assert.rejects(simulateIntoWorkspace(ws, OPTIONS, { out, shards: 2 }), /already holds/);
  });

  // Last: it empties the workspace and simulates into it again (one workspace per process).
  it('stores the same rows when each day is read from its file instead of staged in memory', async () => {
    const columns = [
      ...EVENT_COLUMNS.filter((c) => c !== 'ingested_at'),
      'country',
      'asn',
      'as_org',
      'net_class',
    ]
      .map((c) => `toString(${c})`)
      .join(', ');
    const digest = async () => ({
      events: await q(`SELECT count() AS n, toString(groupBitXor(cityHash64(${columns}))) AS h FROM events`),
      ingests: await q('SELECT source_file, read, stored, duplicates FROM ingests ORDER BY source_file'),
      ledger: await q('SELECT token_id FROM unmatched_tokens ORDER BY token_id'),
    });
    const staged = await digest();
    assert.ok(Number((staged.events[0] as { n: number }).n) > 0);
    await ws.engine.exec('TRUNCATE TABLE events');
    await ws.engine.exec('TRUNCATE TABLE ingests');
    for (const statement of TRUNCATE_LEDGER) await ws.engine.exec(statement);
    const otherOut = mkdtempSync(path.join(os.tmpdir(), 'vigil-simws-out-'));
    try {
      const fromFile = await simulateIntoWorkspace(ws, OPTIONS, {
        out: otherOut,
        shards: SHARDS,
        stageInMemoryBytes: 0,
      });
      assert.equal(fromFile.baseRows, run.baseRows);
      assert.deepEqual(await digest(), staged);
    } finally {
      rmSync(otherOut, { recursive: true, force: true });
    }
  });
});
