/**
 * Scope and export speed on synthetic stores of growing size (not a test).
 *
 *   node --import tsx bench/scope.bench.ts [sizes in millions, default 10 30 100] [--attack PER_MILLE]
 *     [--home DIR] [--keep] [--reuse]        (TRACE=1 times each engine call; EXPORT_ROWS=N, default 10 M)
 *
 * 100 M OCSF JSON events cannot be written to disk here, so the store is built inside the engine:
 * `INSERT INTO events SELECT … FROM numbers(N)` (in 10 M chunks) with plausible rows: 30 days,
 * sessions of 10 events (an Authentication token issuance, then API reads as one customer with
 * that token) from 20 M customers on broadband and carrier (mobile) addresses; 1.5 % of sessions
 * (`--attack 15`, per mille) are the attacker's, a large breach (1.5 M events and ~1.8 M subjects
 * in 100 M), or 12 % with `--attack 120` (the heavy case): tokens signed by the same key k-app but
 * never issued, each call reading a
 * different victim (and a recipient from their address book), from 5 hosting addresses and one
 * carrier-NAT address that customers share, 2 % rate-limited. The incident names the key and one
 * hosting address; the other addresses are found by expansion.
 *
 * For each size it prints: scope time, the bare engine scanning the same columns (one pass, no
 * logic), the never-issued tokens alone (by grouping every event, and from the ledger), and the
 * ratios, in wall and CPU seconds (CPU includes the engine's threads, and is steadier than wall
 * time when other work shares the machine); then exports of EXPORT_ROWS subject rows to jsonl, csv
 * and parquet with the process's peak RSS.
 *
 * The scope reads `events` in one wide pass (TRACE=1 shows every statement), copying into a
 * candidate table (src/scope/candidates.ts) every forged call (tested by token hash first, then
 * exactly), the seed tokens/accounts/agents' rows, and the rows at the addresses the forged calls
 * came from (a carrier address: only its rows of the accounts the attacker used there) as far as
 * the token ledger recorded them; a second pass, testing the address first, copies what it did not
 * record (always, without the ledger). Rounds, address classification and the probable pass then
 * read only that table. Stores of up to 5 M events skip the table (VIGIL_SCOPE_DIRECT_MAX). Which
 * tokens were never issued also comes from the ledger (src/store/ledger.ts: each build chunk is a
 * batch, as each ingest is), reading only the issuance rows; VIGIL_SCOPE_LEDGER=0 groups every
 * event by token and takes two passes instead, as before the ledger.
 *
 * Measured here (2 cores; the machine's speed drifts by ±20 % over minutes, so versions are
 * compared back to back on the same store, and the bare scan beside each run shows the phase).
 * Stores as the build leaves them (100 M: 9 parts), three rounds, load ~2:
 * - scope 10 M 1.16-1.24 s (1.7-1.8 CPU s), 30 M 2.83-2.91 s (4.7-4.9), 100 M 8.65-8.82 s
 *   (16.2-16.6); bare scan of the same columns 0.19-0.25 / 0.52-0.56 / 1.70-1.73 s: about 5x,
 *   growing linearly with the store. The grouping path (VIGIL_SCOPE_LEDGER=0, the code before the
 *   ledger) on the same 100 M store right after: 11.02 s (21.0 CPU s). Earlier, interleaved in a
 *   slower phase: ledger 9.2-10.3 s vs grouping 12.0-12.7 s. Peak RSS 1.2-1.4 GB.
 * - Where the time goes at 100 M (wall s, CPU about twice): never-issued tokens from the ledger
 *   0.23 (grouping: 1.7), the one wide pass 5.3 (reading ~20 columns of every granule, since the
 *   attacker's rows are in all of them; those columns read bare take 2.6-2.8; with the rows at
 *   the attacker's addresses, which the ledger named, ~0.4 of it), round 0 into scope_events
 *   0.7 (0.2 computing, the rest writing 1.5 M rows), exposures 1.2 (grouping 1.8 M subjects,
 *   sorting them by id for the table's order, writing), summaries 0.8, ~30 small statements 0.5.
 * One pass for the forged calls and their addresses, measured alone (SELECTs, best of three):
 * 4.79 s, against 4.38 for the forged calls and 1.50 for the addresses in passes of their own.
 * Tried and not kept: finding the addresses in their own narrow pass before the copy (~1.5 more in
 * all); the per-token addresses and accounts in the grouping (min/max/any per token: 3.5-6.4 s
 * instead of 1.6; the ledger records them per batch instead); the forged test inside an
 * OR (both hash and string lookups on every row); testing each call against the set of issued
 * tokens (as dear as grouping); grouping by (hour, token) in key order (4-7 s); a Memory or
 * uncompressed candidate table, the indicator's argMin packed into one integer, the three
 * summaries as one GROUPING SETS query or run concurrently, more read threads (all within noise
 * or dearer); people per operation/origin/day as bits in the exposures grouping (the per-subject
 * table cost nearly what it saved); event times stored as deltas (Delta+LZ4 read them in 0.33
 * instead of 0.79 CPU s per 100 M, ~0.2 s of a scope, but every insert pays: 20 M rows of a
 * narrow table took 10.6 instead of 8.9 CPU s, and the simulator's store is all inserts). A
 * per-token ledger kept by a materialised view on `events` (withdrawn, migration 11) cost ingest
 * a quarter of its speed; the ledger now is written from each batch's own rows after its insert:
 * 0.12 of 6.4 s for 2 M lines, ~4 of ~150 CPU s for the simulator's 94 M-event store.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ScopeIncident, scopeIncident, writeExposureFile } from '../src/scope/index.ts';
import { loadCatalog } from '../src/sources/reference/index.ts';
import {
  type Engine,
  neverIssuedByGroupingSql,
  neverIssuedFromLedgerSql,
  openWorkspace,
  recordBatchTokens,
  TRUNCATE_LEDGER,
} from '../src/store/index.ts';

const args = process.argv.slice(2);
const homeArg = args.indexOf('--home');
const home = homeArg >= 0 ? (args[homeArg + 1] as string) : path.join(os.tmpdir(), 'vigil-scope-bench');
const keep = args.includes('--keep');
/** Keep a store of the right size left by an earlier `--keep` run instead of rebuilding it. */
const reuse = args.includes('--reuse');
/** Subject rows for the export measurement (0 skips it). */
const exportRows = Number(process.env.EXPORT_ROWS ?? 10_000_000);
const attackArg = args.indexOf('--attack');
/** The attacker's share of sessions, per mille: 15 (1.5 %, realistic) unless `--attack N`. */
const ATTACK_PER_MILLE = attackArg >= 0 ? Number(args[attackArg + 1]) : 15;
const flagValues = new Set([homeArg + 1, attackArg + 1].filter((i) => i > 0));
const sizes = args.filter((a, i) => /^\d+$/.test(a) && !flagValues.has(i)).map((a) => Number(a) * 1e6);
if (sizes.length === 0) sizes.push(10e6, 30e6, 100e6);

const CUSTOMERS = 20_000_000;
const CHUNK = 10_000_000;
const HOSTING = ['43.200.10.1', '47.74.0.9', '45.32.1.7', '104.131.0.3', '88.198.0.5'];
const NAT = '1.96.0.1';

const CATALOG = `categories:
  name: { label: Name }
  phone: { label: Phone number }
  email: { label: Email address }
  address: { label: Shipping address }
  order_history: { label: Order history }
  payment: { label: Payment details }
  credential: { label: Login credentials }
operations:
  GetProfile: [name, email, phone]
  GetShippingAddresses: [name, phone, address]
  GetRecentOrders: [name, order_history]
  GetPaymentMethods: [name, payment]
  ChangePassword: [credential]
`;

/** Rows numbered [from, to) of a store of `total` rows; plausible, deterministic, all in SQL. */
function generateSql(from: number, to: number, total: number): string {
  const hosting = `[${HOSTING.map((ip) => `'${ip}'`).join(',')}]`;
  return `INSERT INTO events (event_id, time, class_uid, activity_id, status_id, actor_uid, actor_type, token_id, key_id,
      token_created_ms, token_expires_ms, issuer, src_ip, country, asn, as_org, net_class, http_method, url_path,
      user_agent, operation, request_id, subject_ids, subject_types, http_status, response_bytes, is_mfa, source_file,
      source_line, ingested_at, unmapped)
  SELECT
    concat('b', toString(number)) AS event_id,
    toDateTime64('2025-06-01 00:00:00', 3, 'UTC') + toIntervalMillisecond(intDiv(number * 2592000000, ${total})) AS time,
    if(first AND NOT attack, 3002, 6003) AS class_uid,
    if(first AND NOT attack, 3, 2) AS activity_id,
    if(limited, 2, 1) AS status_id,
    concat('c', toString(cityHash64(session) % ${CUSTOMERS})) AS actor_uid,
    'Customer' AS actor_type,
    concat('t', hex(session)) AS token_id,
    'k-app' AS key_id,
    0 AS token_created_ms, 0 AS token_expires_ms, 'login' AS issuer,
    toIPv6(if(attack, if(cityHash64(session, 3) % 10 = 0, '${NAT}', arrayElement(${hosting}, 1 + cityHash64(session, 4) % 5)),
      if(cityHash64(session, 5) % 20 = 0, '${NAT}', IPv4NumToString(toUInt32(0x3A000000 + cityHash64(session, 6) % 50000000))))) AS src_ip,
    if(attack AND src_ip != toIPv6('${NAT}'), 'JP', 'KR') AS country,
    if(attack AND src_ip != toIPv6('${NAT}'), 16509, if(src_ip = toIPv6('${NAT}'), 4766, 9318)) AS asn,
    if(asn = 16509, 'AMAZON-02', if(asn = 4766, 'Korea Telecom', 'SK Broadband')) AS as_org,
    if(asn = 16509, 'hosting', if(asn = 4766, 'mobile', 'broadband')) AS net_class,
    'GET' AS http_method,
    '' AS url_path,
    if(attack, 'python-requests/2.31', 'ShopApp/7.4.2') AS user_agent,
    if(class_uid = 3002, '', arrayElement(['GetProfile', 'GetShippingAddresses', 'GetRecentOrders', if(attack, 'GetProfile', 'GetPaymentMethods')], 1 + number % 4)) AS operation,
    '' AS request_id,
    if(class_uid = 3002 OR limited, [], if(operation = 'GetShippingAddresses', [victim, concat('r', toString(cityHash64(victim) % 40000000))], [victim])) AS subject_ids,
    if(class_uid = 3002 OR limited, [], if(operation = 'GetShippingAddresses', ['customer', 'recipient'], ['customer'])) AS subject_types,
    if(limited, 429, 200) AS http_status,
    900 AS response_bytes, -1 AS is_mfa, 'synthetic' AS source_file, number AS source_line, now() AS ingested_at, '' AS unmapped
  FROM (
    SELECT number, intDiv(number, 10) AS session, number % 10 = 0 AS first,
      cityHash64(intDiv(number, 10), 1) % 1000 < ${ATTACK_PER_MILLE} AS attack,
      attack AND cityHash64(number, 2) % 50 = 0 AS limited,
      if(attack, concat('c', toString(cityHash64(number, 8) % ${CUSTOMERS})), concat('c', toString(cityHash64(intDiv(number, 10)) % ${CUSTOMERS}))) AS victim
    FROM numbers(${from}, ${to - from})
  )`;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = process.hrtime.bigint();
  const v = await fn();
  return [v, Number(process.hrtime.bigint() - t) / 1e9];
}

let peakRss = 0;
let peakHeap = 0;
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakHeap = Math.max(peakHeap, m.heapUsed + m.arrayBuffers);
}, 50);

async function build(engine: Engine, total: number): Promise<number> {
  if (reuse) {
    const [have] = await engine.query<{ n: number }>('SELECT count() AS n FROM events');
    if (have?.n === total) return 0;
  }
  await engine.exec('TRUNCATE TABLE events');
  for (const statement of TRUNCATE_LEDGER) await engine.exec(statement);
  const [, s] = await timed(async () => {
    for (let from = 0; from < total; from += CHUNK) {
      const to = Math.min(total, from + CHUNK);
      await engine.exec(generateSql(from, to, total));
      // Each chunk is a batch in the token ledger, as an ingest would record it.
      const rows = `(SELECT class_uid, token_id, time FROM events WHERE source_line >= ${from} AND source_line < ${to})`;
      const [range] = await engine.query<{ lo: string; hi: string }>(
        `SELECT toString(min(time)) AS lo, toString(max(time)) AS hi FROM ${rows}`,
      );
      await recordBatchTokens(engine, {
        id: `chunk-${from}`,
        rows,
        events: to - from,
        lo: range!.lo,
        hi: range!.hi,
      });
    }
  });
  return s;
}

const incident: ScopeIncident = {
  id: 'inc-bench',
  first_seen: '2025-06-05T00:00:00Z',
  last_seen: '2025-07-01T00:00:00Z',
  entities: [
    { type: 'key', id: 'k-app' },
    { type: 'ip', id: HOSTING[0] as string },
  ],
};

if (!reuse) fs.rmSync(home, { recursive: true, force: true });
const ws = await openWorkspace(home, { command: 'bench scope' });
if (process.env.TRACE) {
  // Times every engine call of the scope, to see where the time goes.
  const e = ws.engine as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  for (const name of ['exec', 'query']) {
    const orig = e[name]?.bind(ws.engine);
    e[name] = async (...a: unknown[]) => {
      const t = Date.now();
      const c = process.cpuUsage();
      const r = await orig?.(...a);
      const u = process.cpuUsage(c);
      console.error(
        `${((Date.now() - t) / 1000).toFixed(2)}s cpu ${((u.user + u.system) / 1e6).toFixed(2)}s ${String(a[0]).replace(/\s+/g, ' ').slice(0, 150)}`,
      );
      return r;
    };
  }
}
const catalogFile = path.join(home, 'catalog.yaml');
fs.writeFileSync(catalogFile, CATALOG);
await loadCatalog(ws.engine, catalogFile);
const results: Record<string, unknown>[] = [];

/** Wall and CPU seconds of `fn`; CPU counts the engine's threads too (chDB runs in this process). */
async function measured<T>(fn: () => Promise<T>): Promise<{ value: T; s: number; cpu: number }> {
  const c = process.cpuUsage();
  const [value, s] = await timed(fn);
  const used = process.cpuUsage(c);
  return { value, s, cpu: (used.user + used.system) / 1e6 };
}

/**
 * `EXPORT_ROWS` exposure rows (default 10 M) written straight into `exposures` under their own
 * computation id, shaped like the scope's (customers and recipients, 1–4 categories, both
 * confidences), then exported through the same code as `vigil scope --out`.
 */
async function exportBench(rows: number): Promise<void> {
  const cid = 'sc-bench-export';
  await ws.engine.exec(
    `INSERT INTO exposures (computation_id, incident, subject_id, subject_type, categories, first_exposed,
       last_exposed, events, confidence, indicator)
     SELECT '${cid}', 'inc-bench', concat(if(number % 5 = 0, 'r', 'c'), toString(number)),
       if(number % 5 = 0, 'recipient', 'customer'),
       arraySlice(['address', 'email', 'name', 'order_history', 'phone'], 1 + number % 3, 1 + number % 4),
       toDateTime64('2025-06-05 00:00:00', 3, 'UTC') + toIntervalMillisecond(number * 97),
       toDateTime64('2025-06-05 00:00:00', 3, 'UTC') + toIntervalMillisecond(number * 101),
       1 + number % 3, if(number % 50 = 0, 'probable', 'confirmed'),
       if(number % 50 = 0, 'shared address 1.96.0.1 + account the attacker used', 'forged token signed by k-app')
     FROM numbers(${rows})`,
  );
  for (const ext of ['jsonl', 'csv', 'parquet']) {
    peakRss = 0;
    peakHeap = 0;
    const file = path.join(home, `exposure.${ext}`);
    const m = await measured(() => writeExposureFile(ws, incident, file, { computation: cid, who: 'bench' }));
    const out = {
      export: ext,
      rows: m.value.rows,
      mb: Math.round(m.value.bytes / 2 ** 20),
      seconds: +m.s.toFixed(1),
      cpu_s: +m.cpu.toFixed(1),
      process_peak_rss_mb: Math.round(peakRss / 2 ** 20),
      js_peak_heap_mb: Math.round(peakHeap / 2 ** 20),
    };
    console.log(JSON.stringify(out));
    fs.rmSync(file, { force: true });
  }
  await ws.engine.exec('TRUNCATE TABLE exposures');
}

try {
  for (const total of sizes) {
    const buildS = await build(ws.engine, total);
    const load = os.loadavg()[0] ?? 0;
    const bare = await measured(() =>
      ws.engine.query(
        `SELECT count() AS n FROM events WHERE NOT ignore(class_uid, activity_id, status_id, key_id, token_id, src_ip, time, actor_uid, subject_ids)`,
      ),
    );
    // Which tokens were never issued: by grouping every event (without the ledger), and from the
    // ledger (what the scope does when it covers the store).
    const forgedLedger = await measured(() =>
      ws.engine.query(`SELECT count() FROM (${neverIssuedFromLedgerSql()})`),
    );
    const forgedSet = await measured(() =>
      ws.engine.query(`SELECT count() FROM (${neverIssuedByGroupingSql()})`),
    );
    peakRss = 0;
    peakHeap = 0;
    const scope = await measured(() => scopeIncident(ws, incident, { recompute: true, who: 'bench' }));
    const summary = scope.value;
    const row = {
      events: total,
      attack_per_mille: ATTACK_PER_MILLE,
      build_s: +buildS.toFixed(1),
      load_avg_1m: +load.toFixed(1),
      scope_s: +scope.s.toFixed(2),
      scope_cpu_s: +scope.cpu.toFixed(2),
      bare_scan_s: +bare.s.toFixed(2),
      bare_scan_cpu_s: +bare.cpu.toFixed(2),
      forged_set_s: +forgedSet.s.toFixed(2),
      forged_set_ledger_s: +forgedLedger.s.toFixed(2),
      ratio_scope_to_bare: +(scope.s / bare.s).toFixed(1),
      ratio_cpu: +(scope.cpu / bare.cpu).toFixed(1),
      attributed_events: summary.events.attributed,
      subjects: summary.subjects,
      confirmed: summary.by_confidence.confirmed,
      probable: summary.by_confidence.probable,
      rounds: Math.max(...summary.expansion.map((e) => e.round)),
      process_peak_rss_mb: Math.round(peakRss / 2 ** 20),
      js_peak_heap_mb: Math.round(peakHeap / 2 ** 20),
    };
    results.push(row);
    console.log(JSON.stringify(row));
    if (process.env.DUMP) {
      // The summary without what differs between runs, to compare two versions of the code.
      const { seconds: _s, computation_id: _c, computed_at: _t, ...same } = summary;
      fs.writeFileSync(`${process.env.DUMP}.${total / 1e6}m.json`, JSON.stringify(same, null, 1));
    }
    // Computations pile up in scope_events/exposures; drop them between sizes.
    await ws.engine.exec('TRUNCATE TABLE scope_events');
    await ws.engine.exec('TRUNCATE TABLE exposures');
  }
  if (exportRows > 0) await exportBench(exportRows);
} finally {
  clearInterval(sampler);
  await ws.close();
  if (!keep) fs.rmSync(home, { recursive: true, force: true });
}
console.table(results);
