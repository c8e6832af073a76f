/**
 * Live detection of one heavy window: a 5-minute window holding 15 million events (Coupang's
 * average rate, ~51,000 a second) judged by every detector, against the bare engine scanning the
 * same columns of the same window.
 *
 *   node --import tsx bench/detect-live.bench.ts [--home DIR] [--events 15000000] [--customers 50000]
 *     [--days 9] [--reuse] [--keep]          (VIGIL_DEBUG=1 prints the stages of each detector)
 *
 * The workspace (default /tmp/vigil-detect-live, under 1 GB) is built once and kept with `--keep`;
 * `--reuse` runs the measurement again on a kept one.
 *
 * 1. History: `vigil simulate --into-workspace` of `--customers` for `--days` days from 2025-06-01,
 *    no attack (staff, services, roster, keys, catalog, customers on carrier NAT and broadband),
 *    so every baseline has the history it needs.
 * 2. The window, 2025-06-{days} 11:55–12:00 UTC (20:55 in Seoul, an evening peak), built inside the
 *    engine from `numbers()`: sessions of 10 events from 20 M customers (ids outside the simulated
 *    ones). 60 % on phones behind carrier NAT (the three Korean carriers' ranges, 12,000 NAT
 *    addresses, each shared by ~75 sessions in the window), 40 % on home broadband (one address per
 *    household); app and browser agents; tokens signed by the customer keys valid that day. 40 % of
 *    sessions begin in the window with a token issuance by the login service (Authentication 3002,
 *    activity 3) then 9 API calls; the others continue a session whose token was issued in the 55
 *    minutes before (those issuances are stored too, before the window) and make 10 calls. Calls
 *    read products, carts and the customer's own profile, addresses (with an address-book
 *    recipient), orders and payment methods; 1 % are rate-limited.
 *    A small attack inside: 3,000 calls with 600 tokens never issued, signed by the app key, from
 *    four AWS Tokyo addresses with a scripting agent, each call reading another customer's
 *    delivery addresses.
 * 3. The live state just before the window: detection replayed up to 11:55 (untimed; baselines
 *    refreshed as the live path does, findings and checkpoints saved), kept as a snapshot so the
 *    measurement can be repeated.
 * 4. Measured: the runner judging exactly the window 11:55–12:00 (`runDetection(ws, {until})`, what
 *    `advance` and the server's live loop call) through all detectors, wall and CPU, per detector.
 *    The window ends on a full hour, the heaviest live window: the hour's rollups are refreshed
 *    (from all of its events) and the hourly checks run there. Then, right after, the bare engine
 *    scanning the window's columns once with the aggregates the detectors need, and the ratio.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { type Detector, detectors, runDetection } from '../src/detect/index.ts';
import { simulateIntoWorkspace } from '../src/sim/index.ts';
import { ipToInt, NETWORKS, type Network } from '../src/sim/networks.ts';
import { type Engine, openWorkspace, type Workspace } from '../src/store/index.ts';
import { BASELINE_TABLES, DETECTION_TABLES, measure, timedRegistry } from './detect-common.ts';

const { values } = parseArgs({
  options: {
    home: { type: 'string', default: '/tmp/vigil-detect-live' },
    events: { type: 'string', default: '15000000' },
    customers: { type: 'string', default: '50000' },
    days: { type: 'string', default: '9' },
    reuse: { type: 'boolean' },
    keep: { type: 'boolean' },
  },
});
const home = values.home as string;
const EVENTS = Number(values.events);
const DAYS = Number(values.days);
const WINDOW_SECONDS = 300;
const DAY = `2025-06-${String(DAYS).padStart(2, '0')}`;
const WINDOW_END = new Date(`${DAY}T12:00:00Z`);
const WINDOW_START = new Date(WINDOW_END.getTime() - WINDOW_SECONDS * 1000);
const POPULATION = 20_000_000;
const FIRST_CUSTOMER = 10_000_001;
const NAT_PER_CARRIER = 4000;
const ATTACK_CALLS = 3000;
const ATTACK_IPS = ['54.150.17.20', '54.150.17.21', '54.150.88.9', '54.150.203.4'];
const SNAPSHOT = 'bench_live_';

const sqlTime = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');
const log = (s: string) => process.stderr.write(`${s}\n`);

/** A constant array of numbers, for picking a network's values by index in SQL. */
const arr = (xs: readonly (number | string)[]) =>
  `[${xs.map((x) => (typeof x === 'number' ? String(x) : `'${x.replace(/'/g, "\\'")}'`)).join(', ')}]`;

/**
 * Network picks as SQL: `idx` (1-based) chooses one of `nets`; `u` (UInt64) an address inside its
 * first range, kept off .0 and .255.
 */
function networkSql(nets: readonly Network[], idx: string, u: string) {
  const starts = arr(nets.map((n) => ipToInt(n.ranges[0]![0])));
  const sizes = arr(nets.map((n) => ipToInt(n.ranges[0]![1]) - ipToInt(n.ranges[0]![0]) + 1));
  const n = `(arrayElement(${starts}, ${idx}) + ${u} % arrayElement(${sizes}, ${idx}))`;
  return {
    ip: `toIPv6(IPv4NumToString(toUInt32(${n} + (${n} % 256 = 0) - (${n} % 256 = 255))))`,
    asn: `arrayElement(${arr(nets.map((x) => x.asn))}, ${idx})`,
    org: `arrayElement(${arr(nets.map((x) => x.org))}, ${idx})`,
    country: `arrayElement(${arr(nets.map((x) => x.country))}, ${idx})`,
  };
}

const MOBILE = [NETWORKS.sktMobile, NETWORKS.ktMobile, NETWORKS.lguMobile];
const BROADBAND = [NETWORKS.ktBroadband, NETWORKS.skbBroadband, NETWORKS.lguBroadband, NETWORKS.sktBroadband];
const AGENTS = [
  'ShopApp/7.5.0 (iPhone15,3; iOS 18.3.2; Scale/3.00)',
  'ShopApp/7.5.0 (Linux; Android 14; SM-S921N)',
  'ShopApp/7.4.2 (Linux; Android 13; SM-S928N)',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
];
/** What a session's calls do, one per call slot (own-data pages read the customer themself). */
const OPERATIONS: [string, string, 'none' | 'self' | 'self+recipient'][] = [
  ['SearchProducts', '/v1/products', 'none'],
  ['GetProduct', '/v1/products/{id}', 'none'],
  ['GetProduct', '/v1/products/{id}', 'none'],
  ['GetCart', '/v1/cart', 'none'],
  ['AddToCart', '/v1/cart/items', 'none'],
  ['GetProfile', '/v1/me', 'self'],
  ['GetShippingAddresses', '/v1/me/addresses', 'self+recipient'],
  ['GetRecentOrders', '/v1/me/orders', 'self'],
  ['GetOrder', '/v1/orders/{id}', 'self'],
  ['GetPaymentMethods', '/v1/me/payment-methods', 'self'],
];

const COLUMNS = `event_id, time, class_uid, activity_id, status_id, actor_uid, actor_type, token_id, key_id,
  token_created_ms, token_expires_ms, issuer, src_ip, country, asn, as_org, net_class, http_method, url_path,
  user_agent, operation, request_id, subject_ids, subject_types, http_status, response_bytes, is_mfa,
  source_file, source_line, ingested_at, unmapped`;

/**
 * Per session `s`: customer, key, network and agent, as SQL columns. Sessions are numbered
 * 0 … sessions−1; `s % 5 < 2` begin in the window.
 */
function sessionSql(keys: readonly string[]): string {
  const mobile = networkSql(MOBILE, 'carrier', 'nat * 2654435761');
  const home = networkSql(BROADBAND, 'isp', 'cityHash64(customer, 5)');
  return `
    s, s % 5 < 2 AS fresh,
    ${FIRST_CUSTOMER} + cityHash64(s, 1) % ${POPULATION} AS customer,
    concat('c-', toString(customer)) AS actor,
    concat('jti-', lower(leftPad(hex(sipHash64(s, 7)), 16, '0'))) AS token,
    arrayElement(${arr(keys)}, 1 + cityHash64(s, 2) % ${keys.length}) AS key,
    toDateTime64('${sqlTime(WINDOW_START)}', 3, 'UTC') + toIntervalMillisecond(cityHash64(s, 3) % ${(WINDOW_SECONDS - 30) * 1000}) AS start,
    cityHash64(s, 4) % 10 < 6 AS on_phone,
    1 + cityHash64(s, 6) % 3 AS carrier, cityHash64(s, 8) % ${NAT_PER_CARRIER} AS nat,
    1 + cityHash64(customer, 9) % 4 AS isp,
    if(on_phone, ${mobile.ip}, ${home.ip}) AS ip,
    if(on_phone, ${mobile.asn}, ${home.asn}) AS net_asn,
    if(on_phone, ${mobile.org}, ${home.org}) AS net_org,
    if(on_phone, 'mobile', 'broadband') AS net_kind,
    arrayElement(${arr(AGENTS)}, 1 + cityHash64(customer, 10) % ${AGENTS.length}) AS agent,
    if(fresh, start, start - toIntervalSecond(60 + cityHash64(s, 11) % 3240)) AS issued`;
}

/** Window events of sessions [from, to): slot 0 of a fresh session is its issuance, the rest calls. */
function windowSql(keys: readonly string[], from: number, to: number): string {
  const op = (i: number) => `arrayElement(${arr(OPERATIONS.map((o) => o[i] as string))}, 1 + slot_op)`;
  return `INSERT INTO events (${COLUMNS})
  SELECT
    concat('lw-', toString(s), '-', toString(slot)) AS event_id,
    start + toIntervalMillisecond(slot * 2900 + cityHash64(s, slot) % 900) AS time,
    if(issuance, 3002, 6003), if(issuance, 3, 2), if(limited, 2, 1),
    actor, if(issuance, '', 'Customer'), token, key,
    toUnixTimestamp64Milli(issued), toUnixTimestamp64Milli(issued) + 3600000, '',
    ip, 'KR', net_asn, net_org, net_kind,
    if(issuance, '', 'GET'), if(issuance, '', replaceOne(${op(1)}, '{id}', toString(cityHash64(s, slot) % 900000))),
    agent, if(issuance, '', ${op(0)}), '',
    multiIf(issuance OR limited, [], ${op(2)} = 'self', [actor],
      ${op(2)} = 'self+recipient', [actor, concat('r-', toString(${FIRST_CUSTOMER} + cityHash64(customer, 12) % 40000000))], []),
    multiIf(issuance OR limited, [], ${op(2)} = 'self', ['customer'], ${op(2)} = 'self+recipient', ['customer', 'recipient'], []),
    if(issuance, 0, if(limited, 429, 200)), if(issuance, 0, 2400), if(issuance, 0, -1),
    'live-window', s * 10 + slot, now(), ''
  FROM (
    SELECT ${sessionSql(keys)}, slot, fresh AND slot = 0 AS issuance,
      NOT issuance AND cityHash64(s, slot, 13) % 100 = 0 AS limited,
      cityHash64(s, slot, 14) % ${OPERATIONS.length} AS slot_op
    FROM (SELECT number AS s FROM numbers(${from}, ${to - from}))
    ARRAY JOIN range(10) AS slot
  )
  SETTINGS max_block_size = 262144, min_insert_block_size_rows = 1048576, max_insert_block_size = 1048576`;
}

/** Issuances, before the window, of the tokens of sessions that continue into it. */
function earlierIssuanceSql(keys: readonly string[], sessions: number): string {
  return `INSERT INTO events (${COLUMNS})
  SELECT concat('lw-', toString(s), '-i'), issued, 3002, 3, 1, actor, '', token, key,
    toUnixTimestamp64Milli(issued), toUnixTimestamp64Milli(issued) + 3600000, '',
    ip, 'KR', net_asn, net_org, net_kind, '', '', agent, '', '', [], [], 0, 0, 0, 'live-window', s * 10 + 9, now(), ''
  FROM (SELECT ${sessionSql(keys)} FROM (SELECT number AS s FROM numbers(${sessions})))
  WHERE NOT fresh`;
}

/** The attack: forged tokens (600, five calls each), four hosting addresses, other people's addresses. */
function attackSql(appKey: string): string {
  const aws = NETWORKS.awsTokyo;
  return `INSERT INTO events (${COLUMNS})
  SELECT concat('lwa-', toString(number)), t, 6003, 2, 1, victim, 'Customer',
    concat('jti-', lower(leftPad(hex(sipHash64(intDiv(number, 5), 99)), 16, '0'))), '${appKey}',
    toUnixTimestamp64Milli(t) - 30000, toUnixTimestamp64Milli(t) + 3570000, '',
    toIPv6(arrayElement(${arr(ATTACK_IPS)}, 1 + intDiv(number, 5) % 4)), '${aws.country}', ${aws.asn}, '${aws.org}', 'hosting',
    'GET', '/v1/me/addresses', 'python-requests/2.31.0', 'GetShippingAddresses', '',
    [victim, concat('r-', toString(${FIRST_CUSTOMER} + cityHash64(number, 3) % 40000000))], ['customer', 'recipient'],
    200, 2400, -1, 'live-window-attack', number, now(), ''
  FROM (SELECT number, toDateTime64('${sqlTime(WINDOW_START)}', 3, 'UTC') + toIntervalMillisecond(intDiv(number * ${WINDOW_SECONDS * 1000}, ${ATTACK_CALLS})) AS t,
      concat('c-', toString(${FIRST_CUSTOMER} + cityHash64(number, 2) % ${POPULATION})) AS victim
    FROM numbers(${ATTACK_CALLS}))`;
}

async function build(ws: Workspace): Promise<void> {
  const e = ws.engine;
  const [{ n }] = await e.query<{ n: number }>('SELECT count() AS n FROM events');
  if (Number(n) > 0) throw new Error(`${home} already holds events: use --reuse, or remove it`);
  const [history, historyTime] = await measure(() =>
    simulateIntoWorkspace(
      ws,
      {
        customers: Number(values.customers),
        days: DAYS,
        seed: 1,
        start: '2025-06-01',
        scenarios: [],
        intensity: 1,
      },
      { out: `${home}-ref` },
    ),
  );
  log(
    `history: ${(history.baseRows + history.replicaRows).toLocaleString('en')} events, ${history.customers} customers, ${DAYS} days in ${historyTime.wall.toFixed(0)} s`,
  );
  const keys = (
    await e.query<{ key_id: string }>(
      `SELECT key_id FROM keys_current WHERE purpose = 'customer-access-token'
         AND created_on <= toDate({day:String}) AND (retired_on IS NULL OR retired_on > toDate({day:String}))
       ORDER BY created_on`,
      { day: DAY },
    )
  ).map((r) => r.key_id);
  if (keys.length === 0) throw new Error(`no customer key valid on ${DAY}`);
  const sessions = Math.floor(EVENTS / 10);
  const [, t] = await measure(async () => {
    const step = 500_000;
    for (let from = 0; from < sessions; from += step) {
      await e.exec(windowSql(keys, from, Math.min(sessions, from + step)));
      log(
        `window: sessions ${Math.min(sessions, from + step).toLocaleString('en')} / ${sessions.toLocaleString('en')}`,
      );
    }
    await e.exec(earlierIssuanceSql(keys, sessions));
    await e.exec(attackSql(keys[0]!));
  });
  log(`window built in ${t.wall.toFixed(0)} s`);
}

/** Detection state the measurement starts from, saved once and restored before every measurement. */
async function snapshot(e: Engine, restore: boolean): Promise<void> {
  for (const table of [...DETECTION_TABLES, ...BASELINE_TABLES]) {
    const copy = `${SNAPSHOT}${table}`;
    if (restore) {
      await e.exec(`TRUNCATE TABLE ${table}`);
      await e.exec(`INSERT INTO ${table} SELECT * FROM ${copy}`);
    } else {
      await e.exec(`DROP TABLE IF EXISTS ${copy}`);
      await e.exec(`CREATE TABLE ${copy} AS ${table}`);
      await e.exec(`INSERT INTO ${copy} SELECT * FROM ${table}`);
    }
  }
}

async function windowFigures(e: Engine) {
  const window = { a: sqlTime(WINDOW_START), b: sqlTime(WINDOW_END) };
  const [row] = await e.query<{ n: number; attack: number; hour: number; customers: number; ips: number }>(
    `SELECT countIf(time >= {a:DateTime64(3, 'UTC')}) AS n, countIf(source_file = 'live-window-attack') AS attack,
       count() AS hour, uniqIf(actor_uid, time >= {a:DateTime64(3, 'UTC')}) AS customers,
       uniqIf(src_ip, time >= {a:DateTime64(3, 'UTC')}) AS ips
     FROM events WHERE time >= toStartOfHour({a:DateTime64(3, 'UTC')}) AND time < {b:DateTime64(3, 'UTC')}`,
    window,
  );
  const [all] = await e.query<{ n: number }>('SELECT count() AS n FROM events');
  return { ...row!, all: Number(all!.n) };
}

const fresh = !values.reuse;
if (fresh) fs.rmSync(home, { recursive: true, force: true });
const ws = await openWorkspace(home, { command: 'bench detect-live' });
const e = ws.engine;
try {
  if (fresh) {
    await build(ws);
    const [run, t] = await measure(() => runDetection(ws, { until: WINDOW_START }));
    log(
      `history replayed to ${run.event_time_reached} in ${t.wall.toFixed(0)} s (${run.windows} windows, ${run.findings_new} findings)`,
    );
    await snapshot(e, false);
  } else {
    await snapshot(e, true);
  }
  const size = await windowFigures(e);
  log(
    `store: ${size.all.toLocaleString('en')} events; window ${WINDOW_START.toISOString()}–${WINDOW_END.toISOString()}: ` +
      `${Number(size.n).toLocaleString('en')} events (${Number(size.attack)} attack), ~${Number(size.customers).toLocaleString('en')} accounts, ` +
      `~${Number(size.ips).toLocaleString('en')} addresses; its hour so far: ${Number(size.hour).toLocaleString('en')} events`,
  );

  const pool: Detector[] = [...detectors];
  const { registry, times } = timedRegistry(pool);
  const [run, live] = await measure(() => runDetection(ws, { until: WINDOW_END, registry }));
  const [, scan] = await measure(() =>
    e.query(
      `SELECT class_uid, status_id, key_id, count(), uniqExact(token_id), uniqExact(actor_uid), uniqExact(src_ip),
         uniqExact(user_agent), uniqExactArray(subject_ids), min(time), max(time), max(token_expires_ms - token_created_ms),
         max(asn), any(country), any(operation), any(url_path), any(http_method)
       FROM events WHERE time >= {a:DateTime64(3, 'UTC')} AND time < {b:DateTime64(3, 'UTC')}
       GROUP BY class_uid, status_id, key_id`,
      { a: sqlTime(WINDOW_START), b: sqlTime(WINDOW_END) },
    ),
  );
  const found = await e.query<{ detector: string; n: number; top: string }>(
    `SELECT detector, count() AS n, argMax(concat(entity_type, ' ', entity_id, ': ', summary), score) AS top
     FROM findings WHERE window_start = {a:DateTime64(3, 'UTC')} GROUP BY detector ORDER BY detector`,
    { a: sqlTime(WINDOW_START) },
  );
  const out = {
    window: `${WINDOW_START.toISOString()} – ${WINDOW_END.toISOString()}`,
    window_events: Number(size.n),
    hour_events_through_window: Number(size.hour),
    store_events: size.all,
    windows_judged: run.windows,
    live_seconds: live.wall.toFixed(2),
    live_cpu_seconds: live.cpu.toFixed(2),
    per_detector: Object.fromEntries(
      [...times].map(([id, t]) => [id, { wall: t.wall.toFixed(2), cpu: t.cpu.toFixed(2) }]),
    ),
    outside_detectors_seconds: (live.wall - [...times.values()].reduce((s, t) => s + t.wall, 0)).toFixed(2),
    findings: Object.fromEntries(found.map((f) => [f.detector, { n: Number(f.n), top: f.top }])),
    bare_scan_seconds: scan.wall.toFixed(2),
    bare_scan_cpu_seconds: scan.cpu.toFixed(2),
    ratio_live_to_scan: (live.wall / scan.wall).toFixed(1),
    ratio_cpu: (live.cpu / scan.cpu).toFixed(1),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
} finally {
  await ws.close();
  if (!values.keep) {
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(`${home}-ref`, { recursive: true, force: true });
  }
}
