import type { Dialect } from '../../store/index.ts';
import { type EVENT_COLUMNS, MAX_MS, MIN_MS, STAGE_COLUMNS } from '../ocsf/parse.ts';

/**
 * The plumbing every adapter shares: an adapter names SQL expressions for its fields, checks and
 * event columns; `stageSelect` wraps them into the stage SELECT that ingest expects (every
 * `events` column plus reason, detail, raw, line_hash, unmapped_pairs). Parsing stays in the
 * engine; nothing here looks at a line.
 */

type EventColumn = (typeof EVENT_COLUMNS)[number];

/** Columns an adapter may set; the rest are computed here (time, source, ingest time). */
type AdapterColumn = Exclude<EventColumn, 'time' | 'src_ip' | 'source_file' | 'source_line' | 'ingested_at'>;

/** One reason to quarantine: the first check whose `when` holds decides reason and detail. */
export interface Check {
  when: string;
  reason: string;
  /** A String expression (or a quoted literal) saying what was wrong, e.g. the field's name. */
  detail: string;
}

export interface AdapterQuery {
  /**
   * What to read: a FROM item that yields `line` (the text of one record), `source_line` (its
   * 1-based position in its file) and `input_label`. Usually `eachLine(input)`.
   */
  from: string;
  /**
   * Named expressions in layers: each layer is one subquery over the previous, so its expressions
   * may use `text` (the line when it is safe to parse, '' when too long or not UTF-8) and names of
   * earlier layers. Layers keep the query tree small: an alias used many times within one SELECT is
   * expanded at each use. Names must not clash with event columns.
   */
  lets: readonly (readonly (readonly [string, string])[])[];
  /** Event time, epoch ms (Nullable Int64); available to checks as `time_ms`. */
  timeMs: string;
  /** Client address as text (Nullable String); available as `client_ip_text` and, typed, `client_ip`. */
  ip: string;
  /** Adapter checks, after the shared ones (line too long, empty, invalid UTF-8). */
  checks: readonly Check[];
  columns: Partial<Record<AdapterColumn, string>> &
    Pick<Record<AdapterColumn, string>, 'activity_id' | 'status_id' | 'actor_uid'>;
  /** `"key":value,…` JSON pairs (no braces) of what the event columns do not hold; '' for none. */
  unmapped: string;
  /** Put before every quarantine detail, e.g. the record's position inside its line. */
  detailPrefix?: string;
}

/** Each settable column: its type cast and its value when an adapter does not set it. */
const COLUMN_TYPES: Record<AdapterColumn, [cast: string, empty: string]> = {
  event_id: ['toString', `concat('h:', hex(sipHash128(line)))`],
  class_uid: ['toUInt16', '6003'],
  activity_id: ['toUInt8', '0'],
  status_id: ['toUInt8', '0'],
  actor_uid: ['toString', `''`],
  actor_type: ['toString', `''`],
  token_id: ['toString', `''`],
  key_id: ['toString', `''`],
  token_created_ms: ['toInt64', '0'],
  token_expires_ms: ['toInt64', '0'],
  issuer: ['toString', `''`],
  reported_country: ['toString', `''`],
  reported_asn: ['toUInt32', '0'],
  http_method: ['toString', `''`],
  url_path: ['toString', `''`],
  user_agent: ['toString', `''`],
  operation: ['toString', `''`],
  request_id: ['toString', `''`],
  subject_ids: ['', `CAST([], 'Array(String)')`],
  subject_types: ['', `CAST([], 'Array(String)')`],
  http_status: ['toUInt16', '0'],
  response_bytes: ['toUInt64', '0'],
  is_mfa: ['toInt8', '-1'],
};

/** The stage SELECT for an adapter; `{maxLine}` and `{firstLine}` are bound by ingest. */
export function stageSelect(d: Dialect, q: AdapterQuery): string {
  const shared: Check[] = [
    {
      when: 'line_bytes > {maxLine:UInt64}',
      reason: 'line_too_long',
      detail: `concat('line of ', toString(line_bytes), ' bytes exceeds the bound of ', toString({maxLine:UInt64}))`,
    },
    { when: `trimBoth(line) = ''`, reason: 'empty_line', detail: `''` },
    { when: 'NOT utf8_ok', reason: 'invalid_utf8', detail: `''` },
  ];
  const verdict = [...shared, ...q.checks]
    .map((c) => `${c.when}, (${sqlString(c.reason)}, toString(${c.detail}))`)
    .join(',\n      ');
  const columns = (Object.keys(COLUMN_TYPES) as AdapterColumn[]).map((c) => {
    const [cast, empty] = COLUMN_TYPES[c];
    const given = q.columns[c];
    const value = given === undefined ? empty : cast === 'toString' ? `ifNull(${given}, '')` : given;
    const typed = cast === '' ? value : `${cast}(ifNull(${value}, ${empty}))`;
    return c === 'event_id' ? `if(reason != '', '', ${typed}) AS ${c}` : `${typed} AS ${c}`;
  });
  const base = `(SELECT *, length(line) AS line_bytes, isValidUTF8(line) AS utf8_ok,
      if(utf8_ok AND line_bytes <= {maxLine:UInt64}, line, '') AS text
    FROM ${q.from})`;
  const layered = [
    ...q.lets,
    [
      ['time_ms', q.timeMs],
      ['client_ip_text', q.ip],
    ],
  ].reduce(
    (from, layer) =>
      `(SELECT *, ${layer.map(([name, expr]) => `${expr} AS ${name}`).join(',\n      ')}\n    FROM ${from})`,
    base,
  );
  return `SELECT ${STAGE_COLUMNS.join(', ')} FROM (
  SELECT
    source_line,
    toIPv6OrNull(ifNull(client_ip_text, '')) AS client_ip,
    multiIf(
      ${verdict},
      ('', '')) AS verdict,
    verdict.1 AS reason,
    if(reason = '', '', concat(${q.detailPrefix ?? `''`}, verdict.2)) AS detail,
    if(reason = '', '', line) AS raw,
    if(reason = '', 0, sipHash64(line)) AS line_hash,
    ${d.sqlFromEpochMs('ifNull(time_ms, 0)')} AS time,
    ifNull(client_ip, toIPv6('::')) AS src_ip,
    ${columns.join(',\n    ')},
    input_label AS source_file,
    now() AS ingested_at,
    if(reason = '', ${q.unmapped}, '') AS unmapped_pairs
  FROM ${layered})`;
}

/** A FROM item of the input's lines with their 1-based positions in their file (see `firstLine`) and its label. */
export function eachLine(input: string): string {
  return `(SELECT _row_number + {firstLine:UInt64} AS source_line, line, input_label FROM ${input})`;
}

/** A SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Quarantines as `missing_field` when `value` is NULL or empty, naming the field. */
export function missing(field: string, value: string): Check {
  return { when: `ifNull(${value}, '') = ''`, reason: 'missing_field', detail: sqlString(field) };
}

/** Quarantines as `bad_time` when `time_ms` is unreadable or implausible (before 2000, after 2100). */
export function badTime(field: string, text: string): Check {
  return {
    when: `isNull(time_ms) OR time_ms < ${MIN_MS} OR time_ms > ${MAX_MS}`,
    reason: 'bad_time',
    detail: `concat(${sqlString(`${field}: `)}, substring(ifNull(${text}, ''), 1, 64))`,
  };
}

/** Quarantines as `bad_ip` when the client address is not an IPv4 or IPv6 address. */
export function badIp(field: string): Check {
  return {
    when: 'isNull(client_ip)',
    reason: 'bad_ip',
    detail: `concat(${sqlString(`${field}: `)}, substring(ifNull(client_ip_text, ''), 1, 64))`,
  };
}

/**
 * Epoch ms from a time written as text: epoch seconds or milliseconds (with or without a fraction,
 * e.g. nginx `$msec`), ISO 8601 / RFC 3339, or the common log format (`24/Jun/2024:02:32:45 +0000`).
 */
export function timeMsFromText(text: string): string {
  return `multiIf(
    isNull(${text}), NULL,
    match(${text}, '^[0-9]+([.][0-9]+)?$'),
      toInt64(round(if(toFloat64OrZero(${text}) < 1e11, toFloat64OrZero(${text}) * 1000, toFloat64OrZero(${text})))),
    toUnixTimestamp64Milli(parseDateTime64BestEffortOrNull(
      replaceRegexpOne(${text}, '^([0-9]{1,2})/([A-Za-z]{3})/([0-9]{4}):', '\\\\1 \\\\2 \\\\3 '), 3, 'UTC')))`;
}

/** An address without its port: `1.2.3.4:5678` and `[2001:db8::1]:443` keep only the address. */
export function withoutPort(text: string): string {
  return `multiIf(
    match(${text}, '^[[][0-9A-Fa-f:.]+[]](:[0-9]+)?$'), extract(${text}, '^[[]([0-9A-Fa-f:.]+)[]]'),
    match(${text}, '^[0-9.]+:[0-9]+$'), extract(${text}, '^([0-9.]+):'),
    ${text})`;
}

/** `"key":<JSON value>` for each non-empty text value, comma-joined (unmapped pairs). */
export function jsonPairs(pairs: readonly (readonly [string, string])[]): string {
  if (pairs.length === 0) return `''`;
  const items = pairs.map(
    ([key, value]) =>
      `if(ifNull(${value}, '') = '', '', concat(${sqlString(`${JSON.stringify(key)}:`)}, toJSONString(ifNull(${value}, ''))))`,
  );
  return `arrayStringConcat(arrayFilter(x -> x != '', [${items.join(', ')}]), ',')`;
}

/**
 * Top-level keys other than `mapped`, as `"key":<raw value>` pairs, from an Array(Tuple(key, raw))
 * such as `JSONExtractKeysAndValuesRaw(text)`.
 */
export function jsonRemainder(pairs: string, mapped: readonly string[]): string {
  const keys = mapped.length > 0 ? mapped.map(sqlString).join(', ') : `''`;
  return `arrayStringConcat(arrayMap(kv -> concat(toJSONString(kv.1), ':', kv.2),
      arrayFilter(kv -> kv.1 NOT IN (${keys}), ${pairs})), ',')`;
}

/** Joins unmapped-pair expressions, skipping empty ones. */
export function joinPairs(...parts: string[]): string {
  return `arrayStringConcat(arrayFilter(x -> x != '', [${parts.join(', ')}]), ',')`;
}

/** HTTP method → OCSF activity: GET/HEAD Read, POST Create, PUT/PATCH Update, DELETE Delete, else Other. */
export function activityFromMethod(method: string): string {
  return `multiIf(${method} IN ('GET', 'HEAD'), 2, ${method} = 'POST', 1, ${method} IN ('PUT', 'PATCH'), 3, ${method} = 'DELETE', 4, 99)`;
}
