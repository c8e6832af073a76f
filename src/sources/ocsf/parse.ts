import type { Dialect } from '../../store/index.ts';
import type { EventSource } from '../source.ts';
import { unmappedSql } from './remainder.ts';

/**
 * OCSF JSON lines are parsed inside the engine: one `JSONExtract` into a named tuple per line (a
 * single pass over the text), then typed. JavaScript never sees an event on this path.
 *
 * The query yields every `events` column plus `reason` / `detail` ('' for a storable line), so the
 * caller routes rows to `events` or `quarantine` from one read of the input (see `EventSource` for
 * its columns). Ingest binds `{maxLine}` and `{firstLine}` (the number of a file's first line,
 * above 1 for a piece of a large input).
 */

const SESSION = `Tuple(uid String, credential_uid String, created_time Int64, expiration_time Int64, issuer String)`;

/**
 * The OCSF fields Vigil maps (spec/inputs.md), as one extraction type. Required fields are
 * Nullable, so that absent (or of a type that does not convert) is told from empty; optional ones
 * extract straight to their default, which is what their column holds when they are absent
 * (`ifNull(Nullable(T), default)` and `T` extract alike for String and Int64, and the plain type
 * saves a copy of every value). `is_mfa` stays Nullable: `-1` means not said.
 */
const EVENT_TUPLE = `Tuple(
  time Variant(Int64, Float64, String),
  class_uid Nullable(Int64), activity_id Nullable(Int64), status_id Nullable(Int64),
  actor Tuple(user Tuple(uid Nullable(String), type String), session ${SESSION}),
  user Tuple(uid Nullable(String), type String),
  session ${SESSION},
  src_endpoint Tuple(ip Nullable(String), location Tuple(country String), autonomous_system Tuple(number Int64)),
  http_request Tuple(http_method String, url Tuple(path String), user_agent String),
  api Tuple(operation String, request Tuple(uid String)),
  resources Array(Tuple(uid Nullable(String), type String)),
  http_response Tuple(code Int64, length Int64),
  metadata Tuple(uid String),
  is_mfa Nullable(Bool))`;

/** The typed extraction of `line` as `j`, and its class (0 when absent), as SELECT items. */
const EXTRACT = `JSONExtract(line, '${EVENT_TUPLE.replace(/\s+/g, ' ')}') AS j`;
const CLASS = 'toUInt16(ifNull(j.class_uid, 0)) AS class_uid';

/** Earliest and latest plausible event times (epoch ms): outside them the time is unparseable. */
export const MIN_MS = 946684800000; // 2000-01-01
export const MAX_MS = 4102444800000; // 2100-01-01

/**
 * Epoch ms from the `time` variant: integer ms (or seconds, if it is too small to be ms), a float,
 * a numeric string, or an RFC 3339 string.
 */
const TIME_MS = `if(isNotNull(j.time.Int64), j.time.Int64 * if(j.time.Int64 < 100000000000, 1000, 1), multiIf(
  isNotNull(j.time.Float64), toInt64(if(j.time.Float64 < 1e11, j.time.Float64 * 1000, j.time.Float64)),
  isNotNull(j.time.String),
    if(match(j.time.String, '^[0-9]+$'), toInt64OrNull(j.time.String),
      toUnixTimestamp64Milli(parseDateTime64BestEffortOrNull(j.time.String, 3, 'UTC'))),
  NULL))`;

/**
 * The principal: `actor.user.uid` on API Activity, `user.uid` on Authentication. Numbers count as
 * ids (the extraction turns them into text; the raw fallback covers engines that do not), and a
 * JSON null is no id. The fallback reads the line again, so it runs only where the id is missing.
 */
const ACTOR = `if(isNotNull(if(class_uid = 3002, j.user.uid, j.actor.user.uid)), if(class_uid = 3002, j.user.uid, j.actor.user.uid),
  nullIf(nullIf(if(class_uid = 3002, JSONExtractRaw(line, 'user', 'uid'), JSONExtractRaw(line, 'actor', 'user', 'uid')), ''), 'null'))`;

/** A required field's reason when it is null: absent, or present with a type that does not fit. */
function requiredReason(path: string[]): string {
  const args = path.map((p) => `'${p}'`).join(', ');
  return `if(JSONHas(line, ${args}), 'wrong_type', 'missing_field')`;
}

/**
 * SELECT over `file({file}, 'LineAsString')`: the typed event columns plus `reason`, `detail` and
 * `raw` (the line, only for rows that go to quarantine).
 *
 * Cost model (2 M lines of 700 bytes on 2 cores): the one typed `JSONExtract` is most of the work.
 * Everything else that would touch the text again — the quarantine classification (`isValidJSON`,
 * `JSONHas`), the fallback for numeric ids, the derived event id — runs only for the rows that need
 * it: the query runs with short-circuit evaluation forced (`PARSE_SETTINGS`), so an `if` branch is
 * computed only for the rows that take it. A storable line is recognised from the typed extraction
 * alone (`storable`), and classified in detail only when it is not. What the extraction does not
 * map is not cut out here: ingest keeps the line, and `remainderSelect` reads it.
 */
export function parseSelect(d: Dialect, input: string): string {
  return `SELECT ${STAGE_COLUMNS.join(', ')} FROM (${parseExpressions(d, input)})`;
}

/**
 * SELECT over `input` (a relation of `event_id` and `line`, stored lines): `event_id` and
 * `unmapped`, the part of the line Vigil does not map, as a JSON object with those keys in place at
 * any depth (`{"metadata":{"product":{"name":"gw"}},"severity_id":1}`), '' when there is none.
 */
export function remainderSelect(input: string): string {
  const pairs = unmappedSql('line');
  return `SELECT event_id, if(pairs = '', '', concat('{', pairs, '}')) AS unmapped FROM (
    SELECT event_id, line, ${EXTRACT}, ${CLASS}, ${pairs} AS pairs FROM ${input})
  SETTINGS ${PARSE_SETTINGS}`;
}

/**
 * Settings of the parse: short-circuit evaluation makes it cheap (see `parseSelect`); simdjson
 * (the engine's default parser) rejects invalid UTF-8 anywhere in a line, which `storable` relies
 * on instead of a scan of its own (3–6 % of a plain parse).
 */
export const PARSE_SETTINGS = `short_circuit_function_evaluation = 'force_enable', allow_simdjson = 1`;
// Not kept: compiling the parse's expressions to machine code at once for large inputs
// (`min_count_to_compile_expression = 0`; by default after three uses, and a parse is one query).
// Over 2 M plain lines it looked 1–3 % cheaper in rounds after the first, but the first round of a
// fresh process, which is what `vigil ingest` runs, paid for the compiling: 285,193–315,960
// events/s with it, 300,245–317,438 without (4 fresh runs each, interleaved).

function parseExpressions(d: Dialect, input: string): string {
  const ip = 'j.src_endpoint.ip';
  const session = (f: string) => `if(class_uid = 3002, j.session.${f}, j.actor.session.${f})`;
  // True exactly when the classification below would find nothing wrong; it needs no second look
  // at the text. (A line the JSON parser rejects, invalid UTF-8 included, extracts as all-null, so
  // class_uid is null.)
  const storable = `line_bytes <= {maxLine:UInt64} AND object_like
      AND class_uid IN (6003, 3002)
      AND ifNull(time_ms BETWEEN ${MIN_MS} AND ${MAX_MS}, 0)
      AND isNotNull(j.activity_id) AND isNotNull(j.status_id)
      AND ifNull(actor, '') != ''
      AND isNotNull(${ip}) AND isNotNull(ip)
      AND (class_uid = 3002 OR j.api.operation != '' OR j.http_request.url.path != '')`;
  return `
  SELECT
    _row_number + {firstLine:UInt64} AS source_line,
    length(line) AS line_bytes,
    startsWith(line, '{') OR startsWith(trimLeft(line), '{') AS object_like,
    ${EXTRACT},
    ${CLASS},
    ${TIME_MS} AS time_ms,
    ${ACTOR} AS actor,
    toIPv6OrNull(ifNull(${ip}, '')) AS ip,
    if(${storable}, '', multiIf(
      line_bytes > {maxLine:UInt64}, 'line_too_long',
      trimBoth(line) = '', 'empty_line',
      NOT isValidUTF8(line), 'invalid_utf8',
      -- Validity is only checked where the extraction found nothing: a full extra parse per line
      -- would cost as much as the extraction itself.
      NOT object_like OR (isNull(j.class_uid) AND NOT isValidJSON(line)), 'invalid_json',
      isNull(j.class_uid), ${requiredReason(['class_uid'])},
      class_uid NOT IN (6003, 3002), 'unsupported_class',
      variantType(j.time) = 'None', if(JSONHas(line, 'time'), 'bad_time', 'missing_field'),
      isNull(time_ms) OR time_ms < ${MIN_MS} OR time_ms > ${MAX_MS}, 'bad_time',
      isNull(j.activity_id), ${requiredReason(['activity_id'])},
      isNull(j.status_id), ${requiredReason(['status_id'])},
      isNull(actor) OR actor = '', if(class_uid = 3002, ${requiredReason(['user', 'uid'])}, ${requiredReason(['actor', 'user', 'uid'])}),
      isNull(${ip}), ${requiredReason(['src_endpoint', 'ip'])},
      isNull(ip), 'bad_ip',
      class_uid = 6003 AND j.api.operation = '' AND j.http_request.url.path = '', 'missing_field',
      '')) AS reason,
    if(reason = '', '', multiIf(
      reason = 'line_too_long', concat('line of ', toString(line_bytes), ' bytes exceeds the bound of ', toString({maxLine:UInt64})),
      reason IN ('missing_field', 'wrong_type'), multiIf(
        isNull(j.class_uid), 'class_uid', variantType(j.time) = 'None', 'time', isNull(j.activity_id), 'activity_id',
        isNull(j.status_id), 'status_id', isNull(actor) OR actor = '', if(class_uid = 3002, 'user.uid', 'actor.user.uid'),
        isNull(${ip}), 'src_endpoint.ip', 'api.operation or http_request.url.path'),
      reason = 'bad_time', concat('time: ', substring(JSONExtractRaw(line, 'time'), 1, 64)),
      reason = 'bad_ip', concat('src_endpoint.ip: ', substring(ifNull(${ip}, ''), 1, 64)),
      reason = 'unsupported_class', concat('class_uid ', toString(class_uid), ' is not 6003 or 3002'),
      '')) AS detail,
    if(reason = '', '', line) AS raw,
    if(reason = '', 0, sipHash64(line)) AS line_hash,
    -- event columns (meaningful only where reason = '')
    multiIf(reason != '', '', j.metadata.uid != '', j.metadata.uid, concat('h:', hex(sipHash128(line)))) AS event_id,
    ${d.sqlFromEpochMs('ifNull(time_ms, 0)')} AS time,
    toUInt8(ifNull(j.activity_id, 0)) AS activity_id,
    toUInt8(ifNull(j.status_id, 0)) AS status_id,
    ifNull(actor, '') AS actor_uid,
    if(class_uid = 3002, j.user.type, j.actor.user.type) AS actor_type,
    ${session('uid')} AS token_id,
    ${session('credential_uid')} AS key_id,
    ${session('created_time')} AS token_created_ms,
    ${session('expiration_time')} AS token_expires_ms,
    ${session('issuer')} AS issuer,
    ifNull(ip, toIPv6('::')) AS src_ip,
    j.src_endpoint.location.country AS reported_country,
    toUInt32(j.src_endpoint.autonomous_system.number) AS reported_asn,
    upper(j.http_request.http_method) AS http_method,
    j.http_request.url.path AS url_path,
    j.http_request.user_agent AS user_agent,
    j.api.operation AS operation,
    j.api.request.uid AS request_id,
    arrayMap(r -> ifNull(r.uid, ''), arrayFilter(r -> isNotNull(r.uid), j.resources)) AS subject_ids,
    arrayMap(r -> lower(r.type), arrayFilter(r -> isNotNull(r.uid), j.resources)) AS subject_types,
    toUInt16(j.http_response.code) AS http_status,
    toUInt64(greatest(j.http_response.length, 0)) AS response_bytes,
    toInt8(if(isNull(j.is_mfa), -1, toUInt8(j.is_mfa))) AS is_mfa,
    input_label AS source_file,
    now() AS ingested_at,
    '' AS unmapped_pairs
  FROM ${input}`;
}

/** The columns of `events`, in the order the stage produces them. */
export const EVENT_COLUMNS = [
  'event_id',
  'time',
  'class_uid',
  'activity_id',
  'status_id',
  'actor_uid',
  'actor_type',
  'token_id',
  'key_id',
  'token_created_ms',
  'token_expires_ms',
  'issuer',
  'src_ip',
  'reported_country',
  'reported_asn',
  'http_method',
  'url_path',
  'user_agent',
  'operation',
  'request_id',
  'subject_ids',
  'subject_types',
  'http_status',
  'response_bytes',
  'is_mfa',
  'source_file',
  'source_line',
  'ingested_at',
] as const;

/** What the stage keeps: the event columns plus routing and quarantine fields. */
export const STAGE_COLUMNS = [...EVENT_COLUMNS, 'reason', 'detail', 'raw', 'line_hash', 'unmapped_pairs'];

export const ocsf: EventSource = {
  name: 'ocsf',
  description: 'OCSF 1.x JSON lines: API Activity (6003) and Authentication (3002)',
  linewise: true,
  parseSelect,
  remainderSelect,
};
