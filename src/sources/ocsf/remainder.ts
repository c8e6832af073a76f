/**
 * The part of an OCSF event Vigil does not map (spec: anything else on an event is kept, in its raw
 * form), as JSON: unknown keys at any depth, in place
 * (`{"metadata":{"product":{"name":"gw"}},"severity_id":1}`). Ingest keeps each event's line
 * whole (`raw_events`); this is computed in the engine from that line when an event is read
 * (`remainderSelect` in parse.ts, `eventRecords`).
 *
 * It used to be computed at ingest, for every line, and the SQL below is shaped by that cost:
 * - A line holding only mapped keys is recognised for ~1 µs: an upper bound of the keys in its
 *   text (its colons, `unmappedPresent`) is compared with the mapped keys the typed extraction
 *   found (`storedKeys`).
 * - Otherwise one split of the line into members (`JSONExtractKeysAndValuesRaw`, ~2 µs, the floor
 *   of any exact remainder), and one of each mapped object whose text has more keys than were
 *   mapped; which members are kept is decided by arithmetic over their places among the mapped
 *   keys (`transform`).
 * - Three engine behaviours: a lambda's body is evaluated in full, with no short-circuit, so every
 *   "only where needed" is a lambda over an array of zero or one element (`only1`); an `if`
 *   outside lambdas, evaluated lazily, recomputed shared subexpressions once per use (25x slower);
 *   the planner copies an alias's expression at every use, so aliases of aliases grow
 *   exponentially with depth: values used more than once are bound as lambda arguments instead.
 * Even so, on lines carrying the fields OCSF requires (~840 B, ~11 µs a line here) ingest ran at
 * 0.34–0.35 of a bare `INSERT … SELECT`; keeping the line instead runs at 0.58 (bench/ingest).
 * Many other shapes were measured and dropped (subquery layers, one pass deciding by a table of
 * paths, cutting the line textually at mapped keys, the JSON type with skipped paths: 23 CPU s per
 * 1 M lines for the parse alone); the same remainders were checked on 160,000 fuzzed lines.
 */

/**
 * Where each stored value sits in an event, with the test that says, from the typed extraction `j`
 * alone, that its key is present. Keys outside this tree, at any depth, are kept. An array's
 * elements are objects of scalars; `stored` says which elements are stored (a resource without an
 * id names nobody, so it is not stored and is kept whole).
 */
type Shape = { [key: string]: Shape | string } | ArrayShape;
interface ArrayShape {
  each: Record<string, string>;
  /** The typed extraction's array. */
  of: string;
  /** Which elements are stored, over `r`. */
  stored: string;
  /**
   * How many of `each` the elements show present, over the whole array without a lambda (~0.25 µs
   * a line cheaper in the gate). It counts elements that are not stored too: every test it feeds
   * also compares the stored elements with all of them, which decides for such lines first.
   */
  present: string;
}

const isArrayShape = (s: Shape | string): s is ArrayShape =>
  typeof s === 'object' && 'each' in s && 'of' in s;

const session = (at: string): Shape => ({
  uid: `${at}.uid != ''`,
  credential_uid: `${at}.credential_uid != ''`,
  created_time: `${at}.created_time != 0`,
  expiration_time: `${at}.expiration_time != 0`,
  issuer: `${at}.issuer != ''`,
});

/** Every stored key of an OCSF event (spec/inputs.md), over the typed extraction `j`. */
const EVENT_SHAPE: Shape = {
  time: 'isNotNull(j.time)',
  class_uid: 'isNotNull(j.class_uid)',
  activity_id: 'isNotNull(j.activity_id)',
  status_id: 'isNotNull(j.status_id)',
  actor: {
    user: { uid: 'isNotNull(j.actor.user.uid)', type: `j.actor.user.type != ''` },
    session: session('j.actor.session'),
  },
  user: { uid: 'isNotNull(j.user.uid)', type: `j.user.type != ''` },
  session: session('j.session'),
  src_endpoint: {
    ip: 'isNotNull(j.src_endpoint.ip)',
    location: { country: `j.src_endpoint.location.country != ''` },
    autonomous_system: { number: 'j.src_endpoint.autonomous_system.number != 0' },
  },
  http_request: {
    http_method: `j.http_request.http_method != ''`,
    url: { path: `j.http_request.url.path != ''` },
    user_agent: `j.http_request.user_agent != ''`,
  },
  api: { operation: `j.api.operation != ''`, request: { uid: `j.api.request.uid != ''` } },
  resources: {
    each: { uid: 'isNotNull(r.uid)', type: `r.type != ''` },
    of: 'j.resources',
    stored: 'isNotNull(r.uid)',
    present: `(length(j.resources) - countEqual(j.resources.uid, NULL)) + (length(j.resources) - countEqual(j.resources.type, ''))`,
  },
  http_response: { code: 'j.http_response.code != 0', length: 'j.http_response.length != 0' },
  metadata: { uid: `j.metadata.uid != ''` },
  is_mfa: 'isNotNull(j.is_mfa)',
};

/**
 * Top-level keys stored on some events only: Authentication (3002) reads the principal and token
 * from `user` and `session`, API Activity from `actor`; the other class's copies are kept.
 */
const STORED_WHEN: Record<string, string> = {
  actor: 'class_uid != 3002',
  user: 'class_uid = 3002',
  session: 'class_uid = 3002',
};

/**
 * Keys in a JSON text, or more: in valid JSON (a line the parser took, a member the engine wrote)
 * every key is followed by exactly one colon outside strings. One byte counted: the
 * two substring scans before it (`":`, and a quote before a blank) made a parse of lines with
 * unknown keys 4–7 % dearer. No `if`: evaluated lazily, its branch would copy every line it reads
 * (~5 % of a plain parse).
 */
const keysAtMost = (text: string) => `countSubstrings(${text}, ':')`;

const rawPair = (k: string, v: string) => `concat(toJSONString(${k}), ':', ${v})`;
const list = (keys: string[]) => `[${keys.map((k) => `'${k}'`).join(', ')}]`;

/** `body` over `text` (as the lambda variable `t`) where `cond` holds, else '' (see the header). */
const only1 = (cond: string, text: string, t: string, body: string) =>
  `arrayStringConcat(arrayMap(${t} -> ${body}, if(${cond}, [${text}], [])))`;

/**
 * How many keys under `shape` the typed extraction shows present: a lower bound of the stored keys
 * in its text (a key present with an empty value is not counted, so the bound only errs low, which
 * only sends a line to the exact path; an array where an object is expected breaks it, see
 * `unmappedPresent`; of an array, see `ArrayShape.present`). An object's own key counts when
 * anything inside it does.
 *
 * Plain arithmetic, no `if` or `OR`: under forced short-circuit evaluation each of those filters
 * and expands its columns. A nested object's count is written twice and computed once (the engine
 * merges identical expressions). The gate over 1 M plain lines, 5 pairs interleaved: +0.59–1.14
 * CPU s over the extraction, against +0.97–1.39 with `if`, `OR` chains and a lambda per array;
 * the whole ingest of 2 M plain lines moved within its noise (3 pairs, on a slow day). The gate's
 * verdict was the same on 200,000 fuzzed lines, every remainder on 120,000.
 */
function storedKeys(shape: Shape, when: Record<string, string> = {}): string {
  if (isArrayShape(shape)) return shape.present;
  // An object's keys, and its own key when any of them is present.
  const withOwnKey = (inner: string) => `(${inner}) + toUInt32((${inner}) > 0)`;
  const terms = Object.entries(shape).map(([key, sub]) => {
    const term = typeof sub === 'string' ? `toUInt32(${sub})` : withOwnKey(storedKeys(sub));
    return when[key] ? `toUInt32(${when[key]}) * (${term})` : term;
  });
  return terms.join(' + ');
}

/**
 * Colons inside the typed extraction's text values: none of them follows a key. A value the
 * extraction gives as JSON text (an object or array where a string was expected) is left out, as
 * its colons may follow keys. A text field missing from this list only makes the gate more cautious.
 */
const COLONS_IN_VALUES = (() => {
  const colons = (v: string) =>
    `(countSubstrings(${v}, ':') * toUInt8(NOT (startsWith(${v}, '{') OR startsWith(${v}, '['))))`;
  const session = (at: string) => ['uid', 'credential_uid', 'issuer'].map((f) => `${at}.${f}`);
  const texts = [
    `ifNull(j.time.String, '')`,
    `ifNull(j.actor.user.uid, '')`,
    'j.actor.user.type',
    ...session('j.actor.session'),
    `ifNull(j.user.uid, '')`,
    'j.user.type',
    ...session('j.session'),
    `ifNull(j.src_endpoint.ip, '')`,
    'j.src_endpoint.location.country',
    'j.http_request.http_method',
    'j.http_request.url.path',
    'j.http_request.user_agent',
    'j.api.operation',
    'j.api.request.uid',
    'j.metadata.uid',
  ];
  const resources = `arraySum(r -> ${colons(`ifNull(r.uid, '')`)} + ${colons('r.type')}, j.resources)`;
  return [...texts.map(colons), resources].join(' + ');
})();

const complex = (v: string) => `(startsWith(${v}, '{') OR startsWith(${v}, '['))`;

/**
 * The members of the object text `t` (a lambda variable) that Vigil does not store, as
 * comma-joined `"key":value` pairs in their original order ('' when none): unknown keys keep their
 * raw value; a mapped object is pruned the same way one level down (dropped when nothing is left);
 * a mapped scalar is dropped, unless its value is an object or array, which no column could hold;
 * a mapped object or array holding something else is kept as it came. With a key repeated in one
 * object, the first one's value is pruned (it is the one the extraction read) and the others are
 * kept as they came.
 *
 * Values used more than once are bound as lambda arguments, never as aliases: the engine's planner
 * copies an alias's expression at every use, so aliases of aliases grow exponentially with depth.
 */
function remainder(t: string, shape: Exclude<Shape, ArrayShape>, when: Record<string, string>): string {
  const entries = Object.entries(shape);
  const mapped = list(entries.map(([k]) => k));
  if (entries.every(([, sub]) => typeof sub === 'string')) {
    const m = `${t}_m`;
    // A repeated key is kept: the extraction read its first occurrence.
    return `arrayStringConcat(arrayMap(${m} -> arrayStringConcat(arrayMap(kv -> ${rawPair('kv.1', 'kv.2')},
      arrayFilter((kv, n) -> n > 1 OR NOT has(${mapped}, kv.1) OR ${complex('kv.2')},
        ${m}, arrayEnumerateUniq(arrayMap(kv -> kv.1, ${m})))), ','), [JSONExtractKeysAndValuesRaw(${t})]))`;
  }
  const p = `${t}_p`;
  const ks = `${t}_k`;
  const objects = entries.flatMap(([key, sub]) => (typeof sub === 'string' ? [] : [[key, sub] as const]));
  // Each mapped object's pruned `"key":{…}` ('' when nothing is left), with its position.
  const pruned = objects.map(([key, sub]) => {
    const c = `${t}_${key}_c`;
    const ct = `${t}_${key}_t`;
    const only = when[key] ? `${when[key]} AND ` : '';
    let body: string;
    let needed: string;
    if (isArrayShape(sub)) {
      // Pruned element by element, in place: an element left empty stays as {} so that positions
      // still line up with the stored subjects.
      const item = `if(startsWith(e, '{') AND isNotNull(JSONExtract(e, 'uid', 'Nullable(String)')),
        concat('{', ${remainder('e', sub.each, {})}, '}'), e)`;
      needed = `${only}startsWith(${c}, '[') AND (${keysAtMost(c)} > ${storedKeys(sub)}
        OR JSONLength(${c}) != arrayCount(r -> ${sub.stored}, ${sub.of}))`;
      body = `arrayStringConcat(arrayMap(items -> if(arrayAll(x -> x = '{}', items), '', concat('"${key}":[', arrayStringConcat(items, ','), ']')),
        [arrayMap(e -> ${item}, JSONExtractArrayRaw(${ct}))]))`;
    } else {
      // An array inside may stand where an object is expected, whose keys the count would take
      // as present (see `unmappedPresent`).
      needed = `${only}startsWith(${c}, '{') AND (${keysAtMost(c)} > ${storedKeys(sub)} OR position(${c}, '[') > 0)`;
      body = `arrayStringConcat(arrayMap(rest -> if(rest = '', '', concat('"${key}":{', rest, '}')), [${remainder(ct, sub, {})}]))`;
    }
    return `(indexOf(${ks}, '${key}'), arrayStringConcat(arrayMap(${c} -> ${only1(needed, c, ct, body)}, [${p}[indexOf(${ks}, '${key}')].2])))`;
  });
  // Members kept as they came: unknown keys, keys this kind of event does not store, and mapped
  // keys whose value has a shape no column holds (a mapped object that was not an object is kept).
  // Each member's place among the mapped keys (`transform`, 0 when unknown) decides it by plain
  // arithmetic: a `multiIf` over the keys, under forced short-circuit evaluation, filters and
  // expands its columns at every branch (4 pairs over 500k lines with every field OCSF requires:
  // 4.85–5.08 CPU s for extraction and remainder against 5.23–5.76; with one unknown key,
  // 4.07–4.27 against 4.15–4.31; the same remainders on 160,000 fuzzed lines).
  // A term for the mapped keys (by place) of one kind, true where the value has another shape;
  // none for a kind no key here has (`has([], k)` does not type).
  const oddAt = (pick: (sub: Shape | string) => boolean, odd: string) => {
    const at = entries.flatMap(([, sub], i) => (pick(sub) ? [i + 1] : []));
    return at.length ? [`toUInt8(has([${at.join(', ')}], k)) * toUInt8(${odd})`] : [];
  };
  const keepTerms = [
    'toUInt8(k = 0)',
    ...oddAt((sub) => typeof sub === 'string', complex('x.2.2')),
    ...oddAt((sub) => typeof sub !== 'string' && !isArrayShape(sub), `NOT startsWith(x.2.2, '{')`),
    ...oddAt((sub) => typeof sub !== 'string' && isArrayShape(sub), `NOT startsWith(x.2.2, '[')`),
    ...entries.flatMap(([key], i) =>
      when[key] ? [`toUInt8(k = ${i + 1}) * toUInt8(NOT (${when[key]}))`] : [],
    ),
  ];
  const place = `transform(x.2.1, ${mapped}, [${entries.map((_, i) => i + 1).join(', ')}], 0)`;
  const keep = `arrayExists(k -> (${keepTerms.join(' + ')}) > 0, [${place}])`;
  const kept = `arrayMap(x -> (x.1, ${rawPair('x.2.1', 'x.2.2')}), arrayFilter(x -> ${keep},
    arrayZip(arrayEnumerate(${p}), ${p})))`;
  // And a stored key's repeats: the extraction read its first occurrence, which is pruned above.
  const always = entries.filter(([key]) => !when[key]).map(([key]) => key);
  const storedHere = Object.keys(when).length
    ? `multiIf(${Object.entries(when)
        .map(([key, cond]) => `x.2.1 = '${key}', ${cond}`)
        .join(', ')}, has(${list(always)}, x.2.1))`
    : `has(${mapped}, x.2.1)`;
  const repeated = `arrayMap(x -> (x.1, ${rawPair('x.2.1', 'x.2.2')}), arrayFilter((x, n) -> n > 1 AND ${storedHere},
    arrayZip(arrayEnumerate(${p}), ${p}), arrayEnumerateUniq(${ks})))`;
  const all = `arrayConcat(${kept}, ${repeated}, [${pruned.join(',\n      ')}])`;
  // Nested one-element maps bind the members and their keys, each computed once.
  return `arrayStringConcat(arrayMap(${p} -> arrayStringConcat(arrayMap(${ks} ->
      arrayStringConcat(arrayMap(x -> x.2, arraySort(x -> x.1, arrayFilter(x -> x.2 != '', ${all}))), ','),
    [arrayMap(kv -> kv.1, ${p})])), [JSONExtractKeysAndValuesRaw(${t})]))`;
}

/**
 * SQL over the line `line`, its typed extraction `j` and `class_uid`: the remainder's comma-joined
 * members, '' when the line has no key Vigil does not map.
 */
export function unmappedSql(line: string): string {
  return only1(
    unmappedPresent(line),
    line,
    'ev',
    remainder('ev', EVENT_SHAPE as Exclude<Shape, ArrayShape>, STORED_WHEN),
  );
}

/**
 * SQL over `line`, `j` and `class_uid`: true when the line has something Vigil does not store, or
 * may. In valid JSON every key is followed by exactly one colon outside strings, so a line with no
 * more colons than stored keys has no other key. Lines with colons in their values (IPv6
 * addresses, RFC 3339 times, URLs in ids) then subtract those; a `\u` escape could spell a colon
 * the text does not show, so a line with one is not corrected. Two things no key count shows are
 * tested too: a resource that is not stored (a bare value, or no id), and an array where an object
 * is expected, which the extraction reads by position, so that its keys seem present (any `[`
 * beyond the resources' own). The gate before this one counted `":` and missed both.
 *
 * Cost (1 M plain lines, CPU s, best of 3): the extraction alone 2.14–2.48, with this gate
 * +0.93–1.05 whether or not the values hold colons, the one before +0.88. Empty resources
 * (`"resources":[]`, which extract like absent ones) used to pass it, so the simulator's lines
 * without subjects took the exact path and came out empty; told apart now, the demo's ingest of
 * 1.8 M events went from 33.1 to 28.0 s, and the gate over plain lines from +0.93 to +1.0.
 */
function unmappedPresent(line: string): string {
  const resources = (EVENT_SHAPE as Record<string, Shape>).resources as ArrayShape;
  // Resources present and empty (the simulator's lines without subjects) extract like absent ones;
  // the text, then the line's top-level type, tells them apart, so that their key and bracket are
  // accounted for (a parse more, on those lines only: the remainder costs ~5x).
  const empty = `if(position(${line}, '"resources":[]') > 0,
    toUInt8(empty(${resources.of}) AND JSONType(${line}, 'resources') = 'Array'), 0)`;
  const stored = `(${storedKeys(EVENT_SHAPE, STORED_WHEN)} + ${empty})`;
  const colons = keysAtMost(line);
  const escaped = `position(${line}, '\\\\u') > 0`;
  // The correction runs inside a lambda over zero or one element, only where needed (see the
  // header). The tests are combined by arithmetic: with OR, evaluated lazily, the gate cost 3x
  // what it does (+3.4 against +1.0 CPU s per 1 M lines).
  const corrected = `arrayExists(x -> toInt64(${colons}) - toInt64(${COLONS_IN_VALUES}) > ${stored},
    if(toUInt8((${colons} > ${stored}) * (${escaped} = 0)), [1], []))`;
  return `(toUInt8(countSubstrings(${line}, '[') > toUInt64(notEmpty(${resources.of})) + ${empty})
    + toUInt8(length(${resources.of}) != arrayCount(r -> ${resources.stored}, ${resources.of}))
    + (${colons} > ${stored}) * (${escaped})
    + toUInt8(${corrected}) > 0)`;
}
