import type { Dialect } from '../../store/index.ts';
import type { EventSource } from '../source.ts';
import type { FieldKey, FieldMap } from './fieldmap.ts';
import {
  activityFromMethod,
  badIp,
  badTime,
  eachLine,
  joinPairs,
  jsonPairs,
  jsonRemainder,
  missing,
  sqlString,
  stageSelect,
  timeMsFromText,
  withoutPort,
} from './stage.ts';

/**
 * JSON access logs (nginx, Envoy): one JSON object per line, read through a field map. Each
 * request becomes an API Activity (6003) event whose activity follows the HTTP method; the path is
 * stored without its query string (the catalog's `paths` templates name the operation), and the
 * query string, like every key the map does not use, is kept in `unmapped`.
 */

/** An event source whose fields come from a field map, so `--field-map` can reconfigure it. */
export interface MappedSource extends EventSource {
  readonly fieldMap: FieldMap;
  withFieldMap(map: FieldMap): MappedSource;
}

export function isMappedSource(s: EventSource): s is MappedSource {
  return 'withFieldMap' in s && 'fieldMap' in s;
}

export function accessLogSource(name: string, description: string, map: FieldMap): MappedSource {
  return {
    name,
    description,
    linewise: true,
    fieldMap: map,
    parseSelect: (d: Dialect, input: string) => accessLogSelect(d, map, input),
    withFieldMap: (next: FieldMap) => accessLogSource(name, description, next),
  };
}

/**
 * Text of one key path; numbers and objects as their JSON text, strings unquoted. The line is parsed
 * once into `top` (key → raw value); a nested path parses only its top-level value.
 */
function jsonText(path: string): string {
  const [head, ...rest] = path.split('.');
  const top = `top[${sqlString(head!)}]`;
  const raw = rest.length === 0 ? top : `JSONExtractRaw(${top}, ${rest.map(sqlString).join(', ')})`;
  // Most strings have no escapes: strip their quotes instead of parsing them again.
  return `if(startsWith(${raw}, '"'),
    if(position(${raw}, '\\\\') = 0, substring(${raw}, 2, length(${raw}) - 2), JSONExtractString(${raw})), ${raw})`;
}

/** The first candidate that is present and not empty, `-` (nginx's blank) or `null`; else NULL. */
function firstOf(paths: readonly string[]): string {
  if (paths.length === 0) return `CAST(NULL, 'Nullable(String)')`;
  const each = paths.map((p) => `nullIf(nullIf(nullIf(${jsonText(p)}, ''), '-'), 'null')`);
  return each.length === 1 ? each[0]! : `coalesce(${each.join(', ')})`;
}

/** How a quarantine detail names a field: the map key and the JSON keys it was looked up in. */
function label(map: FieldMap, key: FieldKey): string {
  return `${key} (${map.fields[key].join(' | ')})`;
}

function accessLogSelect(d: Dialect, map: FieldMap, input: string): string {
  const f = map.fields;
  const v = (key: FieldKey) => `f_${key}`;
  const fields = (Object.keys(f) as FieldKey[]).map((k): [string, string] => [v(k), firstOf(f[k])]);
  const derived: [string, string][] = [
    ['f_method_uc', `upper(${v('method')})`],
    ['f_url_path', `replaceRegexpOne(${v('path')}, '[?#].*$', '')`],
    ['f_query', `extract(ifNull(${v('path')}, ''), '[?]([^#]*)')`],
    ['f_status_n', `toUInt16OrNull(ifNull(${v('status')}, ''))`],
    [
      'f_subject_ids',
      `arrayFilter(x -> x != '', if(startsWith(ifNull(${v('subjects')}, ''), '['),
        JSONExtract(ifNull(${v('subjects')}, '[]'), 'Array(String)'),
        splitByRegexp('[,; ]+', ifNull(${v('subjects')}, ''))))`,
    ],
  ];
  // The client: the first hop of the forwarded-for header when the map names one and it is set,
  // else the connecting address; Envoy writes `address:port`.
  const forwarded = `nullIf(trimBoth(splitByChar(',', ifNull(${v('forwarded_for')}, ''))[1]), '')`;
  const ip = withoutPort(`coalesce(${forwarded}, ${v('client_ip')})`);
  const ipLabel = f.forwarded_for.length > 0 ? `${label(map, 'forwarded_for')} or client_ip` : 'client_ip';
  const mappedKeys = [...new Set(Object.values(f).flatMap((paths) => paths.map((p) => p.split('.')[0]!)))];
  return stageSelect(d, {
    from: eachLine(input),
    lets: [
      [
        ['top_pairs', 'JSONExtractKeysAndValuesRaw(text)'],
        ['top', 'mapFromArrays(top_pairs.1, top_pairs.2)'],
      ],
      fields,
      derived,
    ],
    timeMs: timeMsFromText(v('time')),
    ip,
    checks: [
      {
        // The one parse into `top_pairs` found nothing: only then is validity worth a second parse.
        when: `NOT startsWith(trimLeft(text), '{') OR (empty(top_pairs) AND NOT isValidJSON(text))`,
        reason: 'invalid_json',
        detail: `''`,
      },
      missing(label(map, 'time'), v('time')),
      badTime('time', v('time')),
      missing(label(map, 'client_ip'), 'client_ip_text'),
      badIp(ipLabel),
      missing(label(map, 'method'), v('method')),
      missing(label(map, 'path'), v('path')),
      missing(label(map, 'status'), v('status')),
      {
        when: 'isNull(f_status_n)',
        reason: 'wrong_type',
        detail: `concat('status: ', substring(ifNull(${v('status')}, ''), 1, 64))`,
      },
      missing(label(map, 'principal'), v('principal')),
    ],
    columns: {
      activity_id: activityFromMethod('f_method_uc'),
      status_id: 'if(f_status_n < 400, 1, 2)',
      actor_uid: v('principal'),
      actor_type: v('principal_type'),
      token_id: v('token_id'),
      key_id: v('key_id'),
      http_method: 'f_method_uc',
      url_path: 'f_url_path',
      user_agent: v('user_agent'),
      request_id: v('request_id'),
      subject_ids: 'f_subject_ids',
      subject_types: `arrayMap(x -> ${sqlString(map.subject_type)}, f_subject_ids)`,
      http_status: 'f_status_n',
      response_bytes: `toUInt64OrZero(ifNull(${v('bytes')}, ''))`,
    },
    unmapped: joinPairs(jsonRemainder('top_pairs', mappedKeys), jsonPairs([['query', 'f_query']])),
  });
}
