import { EVENT_COLUMNS } from '../../sources/ocsf/parse.ts';
import { ipToInt, NETWORKS } from '../networks.ts';

/**
 * Amplification: the benign traffic of the simulated base shard, copied K−1 times inside the
 * engine with every identity remapped, so a store of hundreds of millions of events costs one
 * INSERT … SELECT per day instead of a JavaScript loop per event.
 *
 * What is copied (per base row, into shards 1 … K−1):
 * - customer traffic: API calls by customers and their Authentication events (actor `c-…`);
 * - service traffic (per-order fraud scores, notifications, shipping labels) of every service
 *   account that is not an attacker entity of a scenario.
 *
 * What is never copied, so truth.json stays exactly what JavaScript recorded:
 * - attack events (the stream names each one with its scenario: `EventSink.attack`);
 * - staff traffic (the roster in people.csv is the base world's, and an insider's fan-out must
 *   stay large against peers whose counts did not grow);
 * - everything else an attacker entity did (e.g. the marketing exporter's benign weekly export,
 *   since that service is the attacker actor of service-credential-new-origin).
 *
 * How a copy in shard k is remapped (N base customers, R base recipients):
 * - customer `c-i` → `c-(i + k·N)`, recipient `r-j` → `r-(j + k·R)`, in actor, subjects and the
 *   customer's own id in the URL path; shard 0 keeps `c-1 … c-N`, so every victim is there;
 * - event id `ev-X` → `ev-k-X` and request id `req-ev-X` → `req-ev-k-X` (JavaScript ids have no
 *   second dash: unique by construction);
 * - token id → `jti-` + 16 hex digits of sipHash64(token, k): same shape, one new token per base
 *   token and shard, so sessions keep their structure;
 * - client address → a pseudo-random address of the same range of the same network (the ranges
 *   of `networks.ts`, each inside one row of the ASN database), so country, ASN and network class
 *   copied from the base row stay true; households and carrier NAT pools stay shared within a
 *   shard. A copy never lands on an attacker address (a second draw is taken). Private addresses
 *   (service mesh) are kept: the same services serve every shard.
 * - everything else (time, keys, token lifetimes, user agents, operations, statuses, bytes) is
 *   kept: copies happen at the same instants, so key rotation and token expiry stay consistent.
 */
export interface ReplicaPlan {
  /** Total shards including the base (K ≥ 2 to copy anything). */
  shards: number;
  baseCustomers: number;
  baseRecipients: number;
  /** Service principals whose traffic is copied. */
  services: readonly string[];
  /** Attacker addresses (IPv4 text) a copy must not take. */
  avoidIps: readonly string[];
}

/** Source label of the copies of a base day file. */
export function replicaLabel(baseLabel: string): string {
  return `${baseLabel}#replica`;
}

/** Customer and recipient ids are 8-digit numbers: the remap stays in that shape up to here. */
export const MAX_TOTAL_ID = 90_000_000;

/** `c-00000001` + offset, in SQL; `offset` is an SQL expression. */
function shiftedId(prefix: string, expr: string, offset: string): string {
  return `concat('${prefix}', leftPad(toString(toUInt64OrZero(substring(${expr}, 3)) + ${offset}), 8, '0'))`;
}

function remapSubject(expr: string, plan: ReplicaPlan): string {
  return `multiIf(startsWith(${expr}, 'c-'), ${shiftedId('c-', expr, `shard * ${plan.baseCustomers}`)},
    startsWith(${expr}, 'r-'), ${shiftedId('r-', expr, `shard * ${plan.baseRecipients}`)}, ${expr})`;
}

/** Public ranges customers come from, as [first, last] integers. */
function publicRanges(): [number, number][] {
  const out: [number, number][] = [];
  for (const net of Object.values(NETWORKS)) {
    if (net.kind === 'internal') continue;
    for (const [a, b] of net.ranges) out.push([ipToInt(a), ipToInt(b)]);
  }
  return out;
}

/**
 * The copy's address as UInt32: a new draw per (address, shard) in the same range, avoiding .0
 * and .255 host parts; addresses outside every public range (private space) are kept. The range
 * is found once per row (`rangeIndex`) and its bounds read from constant arrays.
 */
function remapIpV4(v4: string, rangeIndex: string, salt: number): string {
  const ranges = publicRanges();
  const starts = `[${ranges.map(([a]) => a).join(', ')}, 0]::Array(UInt32)`;
  const sizes = `[${ranges.map(([a, b]) => b - a + 1).join(', ')}, 1]::Array(UInt32)`;
  const hash = `intHash64(toUInt64(${v4}) * 4096 + ${salt * 1024} + shard)`;
  const n = `(arrayElement(${starts}, ${rangeIndex}) + ${hash} % arrayElement(${sizes}, ${rangeIndex}))`;
  return `toUInt32(if(${rangeIndex} > ${ranges.length}, ${v4}, ${n} + (${n} % 256 = 0) - (${n} % 256 = 255)))`;
}

/** 1-based index of the public range holding `v4`, or one past the last. */
function rangeIndexOf(v4: string): string {
  const ranges = publicRanges();
  const branches = ranges.map(([a, b], i) => `${v4} BETWEEN ${a} AND ${b}, ${i + 1}`);
  return `multiIf(${branches.join(', ')}, ${ranges.length + 1})`;
}

/** Rows per block the engine forms and writes as one part: bounds memory whatever the scale. */
export const COPY_BLOCK_ROWS = 262_144;

/**
 * INSERT … SELECT writing the copies of one base day (rows labelled `label`, not attack events
 * listed in `attackTable`) into shards `first` … `last`. Binds: label, replica, lo, hi (the day's
 * time bounds, widened for clock skew), services, avoid, first, last.
 */
export function replicaInsertSql(plan: ReplicaPlan, attackTable: string, copies: number): string {
  const v4 = 'toUInt32(toIPv4(src_ip))';
  const range = rangeIndexOf(v4);
  const first = remapIpV4(v4, range, 0);
  const second = remapIpV4(v4, range, 1);
  const newEventId = `concat('ev-', toString(shard), '-', substring(event_id, 4))`;
  const newActor = `if(startsWith(actor_uid, 'c-'), ${shiftedId('c-', 'actor_uid', `shard * ${plan.baseCustomers}`)}, actor_uid)`;
  const expressions: Record<string, string> = {
    event_id: newEventId,
    actor_uid: newActor,
    token_id: `if(token_id = '', '', concat('jti-', leftPad(lower(hex(sipHash64(token_id, shard))), 16, '0')))`,
    src_ip: `toIPv6(toIPv4(if(${first} IN {avoid:Array(UInt32)}, ${second}, ${first})))`,
    url_path: `if(startsWith(actor_uid, 'c-'), replaceOne(url_path, actor_uid, ${newActor}), url_path)`,
    request_id: `if(request_id = '', '', concat('req-', ${newEventId}))`,
    subject_ids: `arrayMap(x -> ${remapSubject('x', plan)}, subject_ids)`,
    source_file: '{replica:String}',
    ingested_at: 'now()',
  };
  const columns = [...EVENT_COLUMNS, 'unmapped', 'country', 'asn', 'as_org', 'net_class'];
  const select = columns.map((c) => expressions[c] ?? c).join(',\n    ');
  return `INSERT INTO events (${columns.join(', ')})
  SELECT ${select}
  FROM (
    SELECT * FROM events
    WHERE time >= {lo:DateTime64(3, 'UTC')} AND time < {hi:DateTime64(3, 'UTC')}
      AND source_file = {label:String}
      AND (startsWith(actor_uid, 'c-') OR actor_uid IN {services:Array(String)})
      AND event_id NOT IN (SELECT event_id FROM ${attackTable})
  )
  ARRAY JOIN range({first:UInt32}, {last:UInt32} + 1) AS shard
  SETTINGS max_block_size = ${Math.max(1024, Math.floor(COPY_BLOCK_ROWS / copies))},
    min_insert_block_size_rows = ${COPY_BLOCK_ROWS}, max_insert_block_size = ${COPY_BLOCK_ROWS}`;
}

/** Attacker addresses as the integers `replicaInsertSql` binds to `avoid`. */
export function avoidList(ips: readonly string[]): number[] {
  return ips.filter((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip)).map(ipToInt);
}
