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

/**
 * `prefix` + the 8-digit zero-padded `number`, in SQL: the digits of 10⁸ + n without their
 * leading 1 (cheaper than leftPad of toString).
 */
function paddedId(prefix: string, number: string): string {
  return `concat('${prefix}', substring(toString(toUInt32(${number}) + 100000000), 2))`;
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

/** 1-based index of the public range holding `v4`, or one past the last. */
function rangeIndexOf(v4: string): string {
  const ranges = publicRanges();
  const branches = ranges.map(([a, b], i) => `${v4} BETWEEN ${a} AND ${b}, ${i + 1}`);
  return `multiIf(${branches.join(', ')}, ${ranges.length + 1})`;
}

/**
 * A draw for the copy's address as UInt32, from per-row `_ip_key` / `_ip_start` / `_ip_size`:
 * pseudo-random per (address, shard, salt) in the address's range, avoiding .0 and .255 host parts.
 */
function drawIp(salt: number): string {
  const n = `(_ip_start + intHash64(_ip_key + ${salt * 1024} + shard) % _ip_size)`;
  return `toUInt32(${n} + (${n} % 256 = 0) - (${n} % 256 = 255))`;
}

/** The copy's token in shard `shard` of a base token hashed as `_token_h` (non-zero). */
const copyToken = (hashed: string, shard: string) =>
  `concat('jti-', lower(hex(reinterpretAsFixedString(intHash64(${hashed} + ${shard})))))`;

/** The copy's token in shard `shard` of the (non-empty) base token `token`. */
export function replicaTokenSql(token: string, shard: string): string {
  return copyToken(`bitOr(sipHash64(${token}), 1)`, shard);
}

/** Rows per block the engine forms and writes as one part: bounds memory whatever the scale. */
export const COPY_BLOCK_ROWS = 262_144;

/**
 * INSERT … SELECT writing the copies of one base day (rows labelled `label`, not attack events
 * listed in `attackTable`) into shards `first` … `last`. Binds: label, replica, lo, hi (the day's
 * time bounds, widened for clock skew), services, avoid, first, last.
 *
 * Everything that depends only on the base row (parsed numbers of ids, the address's range, the
 * token's hash, the URL around the customer id) is computed once per base row, before the ARRAY
 * JOIN; per copy only additions, one integer hash and short concatenations remain.
 */
export function replicaInsertSql(plan: ReplicaPlan, attackTable: string, copies: number): string {
  const ranges = publicRanges();
  const starts = `[${ranges.map(([a]) => a).join(', ')}, 0]::Array(UInt32)`;
  const sizes = `[${ranges.map(([a, b]) => b - a + 1).join(', ')}, 1]::Array(UInt32)`;
  const newActor = `if(_cust, ${paddedId('c-', `_actor_n + shard * ${plan.baseCustomers}`)}, actor_uid)`;
  const first = drawIp(0);
  // Only attacker addresses need a second draw; without any, none is spelled out.
  const ip =
    plan.avoidIps.length > 0 ? `if(${first} IN {avoid:Array(UInt32)}, ${drawIp(1)}, ${first})` : first;
  const newEventId = `concat('ev-', toString(shard), _ev_tail)`;
  const expressions: Record<string, string> = {
    event_id: newEventId,
    actor_uid: newActor,
    token_id: `if(_token_h = 0, '', ${copyToken('_token_h', 'shard')})`,
    src_ip: `if(_ip_public, toIPv6(toIPv4(${ip})), src_ip)`,
    url_path: `if(_url_at > 0, concat(_url_head, ${newActor}, _url_tail), url_path)`,
    request_id: `if(request_id = '', '', concat('req-', ${newEventId}))`,
    subject_ids: `arrayMap((k, n, x) -> multiIf(k = 1, ${paddedId('c-', `n + shard * ${plan.baseCustomers}`)},
      k = 2, ${paddedId('r-', `n + shard * ${plan.baseRecipients}`)}, x), _subj_kind, _subj_n, subject_ids)`,
    source_file: '{replica:String}',
    ingested_at: 'now()',
  };
  const columns = [...EVENT_COLUMNS, 'unmapped', 'country', 'asn', 'as_org', 'net_class'];
  const select = columns.map((c) => expressions[c] ?? c).join(',\n    ');
  const v4 = 'toUInt32(toIPv4(src_ip))';
  return `INSERT INTO events (${columns.join(', ')})
  SELECT ${select}
  FROM (
    SELECT *,
      startsWith(actor_uid, 'c-') AS _cust,
      if(_cust, toUInt32OrZero(substring(actor_uid, 3)), 0) AS _actor_n,
      concat('-', substring(event_id, 4)) AS _ev_tail,
      if(token_id = '', 0, bitOr(sipHash64(token_id), 1)) AS _token_h,
      ${v4} AS _v4,
      ${rangeIndexOf('_v4')} AS _ip_range,
      _ip_range <= ${ranges.length} AS _ip_public,
      toUInt64(_v4) * 4096 AS _ip_key,
      arrayElement(${starts}, _ip_range) AS _ip_start,
      arrayElement(${sizes}, _ip_range) AS _ip_size,
      if(_cust, position(url_path, actor_uid), 0) AS _url_at,
      substring(url_path, 1, _url_at - 1) AS _url_head,
      substring(url_path, _url_at + length(actor_uid)) AS _url_tail,
      arrayMap(x -> multiIf(startsWith(x, 'c-'), 1, startsWith(x, 'r-'), 2, 0), subject_ids) AS _subj_kind,
      arrayMap(x -> toUInt32OrZero(substring(x, 3)), subject_ids) AS _subj_n
    FROM events
    WHERE time >= {lo:DateTime64(3, 'UTC')} AND time < {hi:DateTime64(3, 'UTC')}
      AND source_file = {label:String}
      AND (startsWith(actor_uid, 'c-') OR actor_uid IN {services:Array(String)})
      AND event_id NOT IN (SELECT event_id FROM ${attackTable})
  )
  ARRAY JOIN range({first:UInt32}, {last:UInt32} + 1) AS shard
  -- A day's base (~150k rows) is under the size at which the engine reads a part with two threads,
  -- so the copy ran on one core: two readers and two writers took 1.1 M x 10 x 22 from 630k to
  -- 840k-990k events/s. Each writer forms half a block, which keeps peak RSS near 1.5 GB (whole
  -- blocks: 1.97 GB at 30 days).
  SETTINGS max_block_size = ${Math.max(1024, Math.floor(COPY_BLOCK_ROWS / 2 / copies))},
    min_insert_block_size_rows = ${COPY_BLOCK_ROWS / 2}, max_insert_block_size = ${COPY_BLOCK_ROWS / 2},
    max_threads = 2, max_insert_threads = 2,
    merge_tree_min_rows_for_concurrent_read = 8192, merge_tree_min_bytes_for_concurrent_read = 0`;
}

/** Attacker addresses as the integers `replicaInsertSql` binds to `avoid`. */
export function avoidList(ips: readonly string[]): number[] {
  return ips.filter((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip)).map(ipToInt);
}
