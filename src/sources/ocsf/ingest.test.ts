import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import { UserError } from '../../cli/errors.ts';
import type { Workspace } from '../../store/index.ts';
import { tempFile, tempWorkspace } from '../../store/testing.ts';
import { sqlEnrichAddresses } from '../enrich/index.ts';
import {
  eventRecords,
  type IngestCounts,
  type IngestProgress,
  ingestInputs,
  workspaceStatus,
} from '../index.ts';
import { ingestFiles, UnreadableInput } from './ingest.ts';
import { ocsf } from './parse.ts';

const testdata = path.join(import.meta.dirname, 'testdata');
const golden = (name: string) => path.join(testdata, name);

function reconciles(c: IngestCounts): void {
  assert.equal(
    c.read,
    c.stored + c.quarantined + c.duplicates,
    `counts do not reconcile: ${JSON.stringify(c)}`,
  );
}

const base = {
  time: 1750732365123,
  class_uid: 6003,
  activity_id: 2,
  status_id: 1,
  actor: { user: { uid: 'c-1' } },
  src_endpoint: { ip: '1.2.3.4' },
  api: { operation: 'GetProfile' },
};
const line = (over: Record<string, unknown>) => JSON.stringify({ ...base, ...over });

describe('OCSF ingest', () => {
  let ws: Workspace & { dispose(): Promise<void> };
  before(async () => {
    ws = await tempWorkspace();
  });
  after(async () => {
    await ws.dispose();
  });

  test('golden API Activity and Authentication files are stored with typed columns', async () => {
    const { counts } = await ingestInputs(ws, [
      golden('api-activity.golden.jsonl'),
      golden('authentication.golden.jsonl'),
    ]);
    assert.deepEqual(counts, { read: 5, stored: 5, quarantined: 0, duplicates: 0, by_reason: {} });
    const rows = await ws.engine.query<Record<string, unknown>>(
      `SELECT event_id, toString(time) AS t, class_uid, activity_id, status_id, actor_uid, actor_type, token_id, key_id,
         token_created_ms, token_expires_ms, issuer, ${ws.engine.dialect.sqlIpToString('src_ip')} AS ip, reported_country,
         reported_asn, http_method, url_path, user_agent, operation, request_id, subject_ids, subject_types, http_status,
         response_bytes, is_mfa, source_line
       FROM events ORDER BY time, event_id`,
    );
    const api = rows.find((r) => r.event_id === 'evt-api-1')!;
    assert.deepEqual(api, {
      event_id: 'evt-api-1',
      t: '2025-06-24 02:32:45.123',
      class_uid: 6003,
      activity_id: 2,
      status_id: 1,
      actor_uid: 'c-000042',
      actor_type: 'Customer',
      token_id: 'tok-9f2c',
      key_id: 'k-cust-2024',
      token_created_ms: 1750732000000,
      token_expires_ms: 1750735600000,
      issuer: 'https://login.example.com',
      ip: '223.38.12.7',
      reported_country: 'KR',
      reported_asn: 9644,
      http_method: 'GET',
      url_path: '/v1/me/addresses',
      user_agent: 'ShopApp/5.2 (iPhone; iOS 17.5)',
      operation: 'GetShippingAddresses',
      request_id: 'req-1',
      subject_ids: ['c-000042', 'r-000901', 'r-000902'],
      subject_types: ['customer', 'recipient', 'recipient'],
      http_status: 200,
      response_bytes: 1832,
      is_mfa: -1,
      source_line: 1,
    });
    // The line is kept as read, and the keys Vigil does not map, nested too, are read from it.
    const [record] = await eventRecords(ws.engine, ['evt-api-1']);
    assert.equal(record?.raw, fs.readFileSync(golden('api-activity.golden.jsonl'), 'utf8').split('\n')[0]);
    assert.equal(
      record?.unmapped,
      '{"category_uid":6,"src_endpoint":{"autonomous_system":{"name":"SK Telecom"}},"metadata":{"version":"1.1.0","product":{"name":"gateway"}},"severity_id":1}',
    );
    // RFC 3339 time, IPv6 address, lower-case method, no metadata.uid (derived id).
    const v6 = rows.find((r) => r.actor_uid === 'c-000043')!;
    assert.equal(v6.t, '2025-06-24 03:12:46.500');
    assert.equal(v6.ip, '2001:e60:1234::5');
    assert.equal(v6.http_method, 'GET');
    assert.match(String(v6.event_id), /^h:[0-9A-F]{32}$/);
    // Enriched at ingest: a Korean carrier address, an internal address.
    const enriched = await ws.engine.query<{
      ip: string;
      country: string;
      asn: number;
      as_org: string;
      net_class: string;
    }>(
      `SELECT DISTINCT ${ws.engine.dialect.sqlIpToString('src_ip')} AS ip, country, asn, as_org, net_class
       FROM events WHERE ip IN ('223.38.12.7', '10.20.30.40') ORDER BY ip`,
    );
    assert.deepEqual(enriched, [
      { ip: '10.20.30.40', country: 'ZZ', asn: 0, as_org: '', net_class: 'private' },
      { ip: '223.38.12.7', country: 'KR', asn: 9644, as_org: 'SK Telecom', net_class: 'mobile' },
    ]);
    const auth = rows.find((r) => r.event_id === 'evt-auth-1')!;
    assert.equal(auth.class_uid, 3002);
    assert.equal(auth.actor_uid, 'c-000042');
    assert.equal(auth.token_id, 'tok-9f2c');
    assert.equal(auth.key_id, 'k-cust-2024');
    assert.equal(auth.is_mfa, 1);
  });

  test('re-ingesting the same files stores nothing twice', async () => {
    const { counts } = await ingestInputs(ws, [
      golden('api-activity.golden.jsonl'),
      golden('authentication.golden.jsonl'),
    ]);
    assert.deepEqual(counts, { read: 5, stored: 0, quarantined: 0, duplicates: 5, by_reason: {} });
    const [row] = await ws.engine.query<{ n: number }>('SELECT count() AS n FROM events');
    assert.equal(row!.n, 5);
  });

  test('an overlapping file stores only its new lines; duplicates inside one file count once', async () => {
    const old = fs.readFileSync(golden('api-activity.golden.jsonl'), 'utf8').trim().split('\n');
    const fresh = line({ metadata: { uid: 'evt-new-1' } });
    const file = tempFile('overlap.jsonl', [old[0], fresh, fresh, old[2]].join('\n'));
    const { counts } = await ingestInputs(ws, [file]);
    assert.deepEqual(counts, { read: 4, stored: 1, quarantined: 0, duplicates: 3, by_reason: {} });
  });

  test('duplicates inside a file count once where nothing is stored yet, and beside stored neighbours', async () => {
    const later = 1900000000000; // 2030: a time range the store has not seen
    const a = line({ time: later, metadata: { uid: 'far-1' } });
    const b = line({ time: later + 1000, metadata: { uid: 'far-2' } });
    const first = (await ingestInputs(ws, [tempFile('far.jsonl', [a, b, a].join('\n'))])).counts;
    assert.deepEqual([first.read, first.stored, first.duplicates], [3, 2, 1]);
    // Same time range, no id in common: all new, though the range is occupied.
    const c = line({ time: later + 500, metadata: { uid: 'far-3' } });
    const second = (await ingestInputs(ws, [tempFile('far2.jsonl', [c].join('\n'))])).counts;
    assert.deepEqual([second.read, second.stored, second.duplicates], [1, 1, 0]);
    const [row] = await ws.engine.query<{ n: number; ids: number }>(
      `SELECT count() AS n, uniqExact(event_id) AS ids FROM events WHERE event_id LIKE 'far-%'`,
    );
    assert.deepEqual(row, { n: 3, ids: 3 });
  });

  test('every kind of bad line is quarantined with its reason and position; counts reconcile', async () => {
    const bad = [
      line({ metadata: { uid: 'ok-1' } }), // 1 good
      '{"time": 1750732365123, "class_uid": 6003', // 2 invalid_json
      Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), // 3 invalid_utf8
      JSON.stringify({ ...base, actor: undefined }), // 4 missing_field actor.user.uid
      line({ class_uid: 'six thousand' }), // 5 wrong_type class_uid
      line({ time: 'last tuesday' }), // 6 bad_time
      line({ src_endpoint: { ip: '300.1.2.3' } }), // 7 bad_ip
      line({ class_uid: 4001 }), // 8 unsupported_class
      '', // 9 empty_line
      '[1, 2, 3]', // 10 not an object
      line({
        metadata: { uid: 'ok-2' },
        api: {},
        http_request: { http_method: 'GET', url: { path: '/v1/x' } },
      }), // 11 good (path only)
      line({ api: {} }), // 12 missing operation and path
      // 13 invalid_utf8 in a value of a line otherwise storable (the parser's own check)
      Buffer.from(
        line({ metadata: { uid: 'bad-utf8' }, api: { operation: 'Get~' } }).replace('~', '\u00ff'),
        'latin1',
      ),
    ];
    const content = Buffer.concat(
      bad.flatMap((l) => [Buffer.isBuffer(l) ? l : Buffer.from(l), Buffer.from('\n')]),
    );
    const file = tempFile('bad.jsonl', content);
    const { counts } = await ingestInputs(ws, [file]);
    reconciles(counts);
    assert.equal(counts.read, 13);
    assert.equal(counts.stored, 2);
    assert.deepEqual(counts.by_reason, {
      bad_ip: 1,
      bad_time: 1,
      empty_line: 1,
      invalid_json: 2,
      invalid_utf8: 2,
      missing_field: 2,
      unsupported_class: 1,
      wrong_type: 1,
    });
    const q = await ws.engine.query<{
      source_line: number;
      reason: string;
      detail: string;
      source_file: string;
    }>(
      'SELECT source_line, reason, detail, source_file FROM quarantine WHERE source_file = {f:String} ORDER BY source_line',
      { f: file },
    );
    assert.deepEqual(
      q.map((r) => [r.source_line, r.reason]),
      [
        [2, 'invalid_json'],
        [3, 'invalid_utf8'],
        [4, 'missing_field'],
        [5, 'wrong_type'],
        [6, 'bad_time'],
        [7, 'bad_ip'],
        [8, 'unsupported_class'],
        [9, 'empty_line'],
        [10, 'invalid_json'],
        [12, 'missing_field'],
        [13, 'invalid_utf8'],
      ],
    );
    assert.equal(q.find((r) => r.source_line === 4)!.detail, 'actor.user.uid');
    assert.equal(q.find((r) => r.source_line === 5)!.detail, 'class_uid');
    assert.equal(q.find((r) => r.source_line === 12)!.detail, 'api.operation or http_request.url.path');
    // Quarantined lines are kept whole, bytes included.
    const [raw] = await ws.engine.query<{ raw: string }>(
      `SELECT hex(raw) AS raw FROM quarantine WHERE source_file = {f:String} AND source_line = 3`,
      { f: file },
    );
    assert.equal(raw!.raw, '7B226122 3A22FFFE227D'.replace(' ', ''));
    // Ingesting it again quarantines nothing new.
    const again = (await ingestInputs(ws, [file])).counts;
    assert.deepEqual([again.read, again.stored, again.quarantined, again.duplicates], [13, 0, 0, 13]);
  });

  test('epoch milliseconds, epoch seconds and RFC 3339 with offsets give the same instant', async () => {
    const file = tempFile(
      'times.jsonl',
      [
        line({ time: 1750732365123, metadata: { uid: 't-ms' } }),
        line({ time: 1750732365, metadata: { uid: 't-s' } }),
        line({ time: '2025-06-24T11:32:45.123+09:00', metadata: { uid: 't-rfc' } }),
        line({ time: '1750732365123', metadata: { uid: 't-str' } }),
      ].join('\n'),
    );
    const { counts } = await ingestInputs(ws, [file]);
    assert.equal(counts.stored, 4);
    const rows = await ws.engine.query<{ event_id: string; t: string }>(
      `SELECT event_id, toString(time) AS t FROM events WHERE event_id LIKE 't-%' ORDER BY event_id`,
    );
    assert.deepEqual(rows, [
      { event_id: 't-ms', t: '2025-06-24 02:32:45.123' },
      { event_id: 't-rfc', t: '2025-06-24 02:32:45.123' },
      { event_id: 't-s', t: '2025-06-24 02:32:45.000' },
      { event_id: 't-str', t: '2025-06-24 02:32:45.123' },
    ]);
  });

  test('a numeric principal is an id; a null one is the wrong type', async () => {
    const file = tempFile(
      'principals.jsonl',
      [
        line({ metadata: { uid: 'p-num' }, actor: { user: { uid: 42 } } }),
        line({ metadata: { uid: 'p-null' }, actor: { user: { uid: null } } }),
      ].join('\n'),
    );
    const { counts } = await ingestInputs(ws, [file]);
    assert.deepEqual([counts.stored, counts.by_reason], [1, { wrong_type: 1 }]);
    const rows = await ws.engine.query<{ actor_uid: string }>(
      `SELECT actor_uid FROM events WHERE event_id = 'p-num'`,
    );
    assert.deepEqual(rows, [{ actor_uid: '42' }]);
    const [q] = await ws.engine.query<{ source_line: number; detail: string }>(
      'SELECT source_line, detail FROM quarantine WHERE source_file = {f:String}',
      { f: file },
    );
    assert.deepEqual(q, { source_line: 2, detail: 'actor.user.uid' });
  });

  test('keys Vigil does not map are kept verbatim, whatever else the line holds', async () => {
    const every = {
      ...base,
      actor: { user: { uid: 'c-1', type: 'Customer' }, session: { uid: 'tok-1' } },
      http_request: { http_method: 'GET' },
      resources: [{ uid: 'c-2', type: 'customer' }],
      http_response: { code: 200 },
      is_mfa: false,
    };
    const auth = {
      ...base,
      class_uid: 3002,
      activity_id: 3,
      actor: undefined,
      api: undefined,
      user: { uid: 'c-1', type: 'Customer' },
      session: { uid: 'tok-1', credential_uid: 'k-1', created_time: 1750732365000, issuer: 'login' },
    };
    const lines = [
      line({ metadata: { uid: 'u-none' } }),
      JSON.stringify({ ...every, metadata: { uid: 'u-all' } }),
      JSON.stringify({ ...every, metadata: { uid: 'u-extra' }, extra: { a: [1, 'x'] } }),
      // mapped keys present without a value Vigil reads, beside an unmapped one
      line({
        metadata: { uid: 'u-empty' },
        api: { operation: 'GetProfile' },
        http_request: {},
        tags: null,
      }),
      // key names are case-sensitive: "Time" is not "time"
      line({ metadata: { uid: 'u-case' }, Time: 'x' }),
      // numbers and strings that look like mapped fields, at the top level
      `{"time":1750732365123,"class_uid":6003,"activity_id":2,"status_id":1,"actor":{"user":{"uid":"c-1"}},"src_endpoint":{"ip":"1.2.3.4"},"api":{"operation":"GetProfile"},"metadata":{"uid":"u-dup"},"uid":"x","ip":"1.2.3.4"}`,
      // Authentication stores user and session; an actor on it is not read, so it is kept
      JSON.stringify({ ...auth, metadata: { uid: 'u-auth' } }),
      JSON.stringify({ ...auth, metadata: { uid: 'u-auth-actor' }, actor: { user: { uid: 'x' } } }),
      // API Activity stores actor; user and session on it are not read, so they are kept
      JSON.stringify({
        ...every,
        metadata: { uid: 'u-api-user' },
        user: { uid: 'u-1' },
        session: { uid: 'tok-2' },
      }),
      // nested keys at every depth, blanks around colons, resources with extras or without an id,
      // a mapped object that is not an object, a mapped scalar holding an array
      `{"time":1750732365123,"class_uid":6003,"activity_id":2,"status_id":1,
          "actor" : {"user":{"uid":"c-1","name":"Kim", "groups":[{"name":"vip"}]},"session":{"uid":"t","is_remote":true}},
          "src_endpoint":{"ip":"1.2.3.4","port":443,"location":{"country":"KR","city":"Seoul"}},
          "api":{"operation":"GetProfile","service":{"name":"profile"}},
          "http_request":"GET /x","http_response":{"code":200,"length":[1,2]},
          "resources":[{"uid":"c-2","type":"customer","name":"Lee"},{"uid":"c-3"},{"type":"note"},"c-4"],
          "metadata":{"uid":"u-nested","product":{"name":"gw","vendor_name":"acme"}},"severity_id":1}`.replace(
        /\n\s*/g,
        '',
      ),
      // resources whose elements hold only what is stored
      line({ metadata: { uid: 'u-res' }, resources: [{ uid: 'c-2', type: 'customer' }, { uid: 'r-1' }] }),
      // empty resources, alone, beside a key to keep, and (not at the top) inside a mapped object
      line({ metadata: { uid: 'u-res-empty' }, resources: [] }),
      line({ metadata: { uid: 'u-res-empty-extra' }, resources: [], x: 1 }),
      line({ metadata: { uid: 'u-res-empty-in' }, actor: { user: { uid: 'c-1' }, resources: [] } }),
      // what no count of keys shows: a resource that is a bare value, and an array where an object
      // is expected (the extraction reads it by position, as if its keys were there)
      line({ metadata: { uid: 'u-res-scalar' }, resources: [{ uid: 'c-2', type: 'customer' }, 'c-9'] }),
      line({ metadata: { uid: 'u-array' }, http_response: [200, 512] }),
      line({ metadata: { uid: 'u-array-in' }, actor: { user: ['c-1'] } }),
      // colons inside values (an RFC 3339 time, an IPv6 address), without and with a key to keep
      line({
        metadata: { uid: 'u-colons' },
        time: '2025-06-24T02:32:45.123Z',
        src_endpoint: { ip: '2001:db8::1' },
      }),
      line({
        metadata: { uid: 'u-colons-extra', product: { name: 'gw' } },
        time: '2025-06-24T02:32:45.123Z',
        src_endpoint: { ip: '2001:db8::1' },
      }),
      // a key repeated in one object: the extraction reads the first, so the others are kept
      line({ metadata: { uid: 'u-dup-object' }, http_response: { code: 200 } }).replace(
        /}$/,
        ',"http_response":{"code":500}}',
      ),
      line({ metadata: { uid: 'u-dup-scalar' } }).replace('"uid":"c-1"', '"uid":"c-1","uid":"c-2"'),
      // a colon written as an escape, which the text does not show, beside a key to keep
      line({ metadata: { uid: 'u-escape' }, x: 1 }).replace('"uid":"c-1"', '"uid":"c\\u003a1"'),
    ];
    const expected = [
      { event_id: 'u-all', unmapped: '' },
      { event_id: 'u-api-user', unmapped: '{"user":{"uid":"u-1"},"session":{"uid":"tok-2"}}' },
      { event_id: 'u-array', unmapped: '{"http_response":[200,512]}' },
      { event_id: 'u-array-in', unmapped: '{"actor":{"user":["c-1"]}}' },
      { event_id: 'u-auth', unmapped: '' },
      { event_id: 'u-auth-actor', unmapped: '{"actor":{"user":{"uid":"x"}}}' },
      { event_id: 'u-case', unmapped: '{"Time":"x"}' },
      { event_id: 'u-colons', unmapped: '' },
      { event_id: 'u-colons-extra', unmapped: '{"metadata":{"product":{"name":"gw"}}}' },
      { event_id: 'u-dup', unmapped: '{"uid":"x","ip":"1.2.3.4"}' },
      { event_id: 'u-dup-object', unmapped: '{"http_response":{"code":500}}' },
      { event_id: 'u-dup-scalar', unmapped: '{"actor":{"user":{"uid":"c-2"}}}' },
      { event_id: 'u-empty', unmapped: '{"tags":null}' },
      { event_id: 'u-escape', unmapped: '{"x":1}' },
      { event_id: 'u-extra', unmapped: '{"extra":{"a":[1,"x"]}}' },
      {
        event_id: 'u-nested',
        unmapped:
          '{"actor":{"user":{"name":"Kim","groups":[{"name":"vip"}]},"session":{"is_remote":true}},' +
          '"src_endpoint":{"port":443,"location":{"city":"Seoul"}},"api":{"service":{"name":"profile"}},' +
          '"http_request":"GET /x","http_response":{"length":[1,2]},' +
          '"resources":[{"name":"Lee"},{},{"type":"note"},"c-4"],' +
          '"metadata":{"product":{"name":"gw","vendor_name":"acme"}},"severity_id":1}',
      },
      { event_id: 'u-none', unmapped: '' },
      { event_id: 'u-res', unmapped: '' },
      { event_id: 'u-res-empty', unmapped: '' },
      { event_id: 'u-res-empty-extra', unmapped: '{"x":1}' },
      { event_id: 'u-res-empty-in', unmapped: '{"actor":{"resources":[]}}' },
      { event_id: 'u-res-scalar', unmapped: '{"resources":[{},"c-9"]}' },
    ];
    // Each line is kept as read, and what Vigil does not map is read from it.
    const file = tempFile('unmapped.jsonl', lines.join('\n'));
    const { counts } = await ingestInputs(ws, [file]);
    assert.equal(counts.stored, expected.length);
    const records = await eventRecords(
      ws.engine,
      expected.map((r) => r.event_id),
    );
    assert.deepEqual(
      records
        .map((r) => ({ event_id: r.event_id, unmapped: r.unmapped }))
        .sort((a, b) => a.event_id.localeCompare(b.event_id)),
      expected,
    );
    for (const r of records) {
      assert.equal(r.raw, lines[r.source_line - 1], `line ${r.source_line} kept verbatim`);
      assert.equal(r.source_file, file);
      if (r.unmapped) JSON.parse(r.unmapped);
    }
    // `events` itself holds no remainder of OCSF lines.
    const [inEvents] = await ws.engine.query<{ n: number }>(
      `SELECT countIf(unmapped != '') AS n FROM events WHERE event_id LIKE 'u-%'`,
    );
    assert.equal(inEvents?.n, 0);
    // Many at once, and ids not stored left out.
    const product = (i: number) => line({ metadata: { uid: `x-${i}`, product: { name: 'gw' } } });
    await ingestInputs(ws, [
      tempFile('unmapped-many.jsonl', Array.from({ length: 200 }, (_, i) => product(i)).join('\n')),
    ]);
    const many = await eventRecords(ws.engine, [
      ...Array.from({ length: 200 }, (_, i) => `x-${i}`),
      'x-none',
    ]);
    assert.equal(many.length, 200);
    assert.ok(many.every((r) => r.unmapped === '{"metadata":{"product":{"name":"gw"}}}'));
  });

  test('each stored event keeps the line it was stored from, once', async () => {
    const first = line({ metadata: { uid: 'keep-1' }, note: 'first' });
    const again = line({ metadata: { uid: 'keep-1' }, note: 'again' });
    const other = line({ metadata: { uid: 'keep-2' } });
    const a = tempFile('keep-a.jsonl', [first, other].join('\n'));
    const b = tempFile('keep-b.jsonl', [again, other, '{"keep-bad'].join('\n'));
    // One batch: the repeated id is stored from the first file, and so is its line.
    const { counts } = await ingestInputs(ws, [a, b]);
    assert.deepEqual([counts.stored, counts.quarantined, counts.duplicates], [2, 1, 2]);
    const kept = () =>
      ws.engine.query<{ event_id: string; source_file: string; source_line: number; raw: string }>(
        `SELECT event_id, source_file, source_line, raw FROM raw_events WHERE event_id LIKE 'keep-%' ORDER BY event_id`,
      );
    const once = [
      { event_id: 'keep-1', source_file: a, source_line: 1, raw: first },
      { event_id: 'keep-2', source_file: a, source_line: 2, raw: other },
    ];
    assert.deepEqual(await kept(), once);
    // Again, alone and together: nothing more is kept.
    await ingestInputs(ws, [b]);
    await ingestInputs(ws, [a, b]);
    assert.deepEqual(await kept(), once);
    // Beside a new event, the ones already kept are not kept again.
    const fresh = line({ metadata: { uid: 'keep-3' } });
    const c = tempFile('keep-c.jsonl', [again, other, fresh].join('\n'));
    assert.equal((await ingestInputs(ws, [c])).counts.stored, 1);
    assert.deepEqual(await kept(), [
      ...once,
      { event_id: 'keep-3', source_file: c, source_line: 3, raw: fresh },
    ]);
    // A quarantined line is kept in quarantine only.
    const [bad] = await ws.engine.query<{ n: number }>(
      `SELECT count() AS n FROM raw_events WHERE raw LIKE '%keep-bad%'`,
    );
    assert.equal(bad?.n, 0);
  });

  test('an input over the piece size is ingested in pieces, with its own line numbers', async () => {
    const lines = Array.from({ length: 300 }, (_, i) =>
      i === 249 ? '{"broken' : line({ metadata: { uid: `piece-${i === 279 ? 9 : i}` } }),
    );
    const text = `${lines.join('\n')}\n`;
    const file = tempFile('pieces.jsonl', text);
    const progress: IngestProgress[] = [];
    const ingest = (f: string, pieceBytes: number) =>
      ingestFiles(ws.engine, [{ path: f, label: f, bytes: fs.statSync(f).size }], {
        source: ocsf,
        enrichment: sqlEnrichAddresses,
        pieceBytes,
        onProgress: (p) => progress.push(p),
      });
    const inputsBefore = (await workspaceStatus(ws)).ingests.inputs;
    const counts = await ingest(file, 8192);
    assert.deepEqual([counts.read, counts.stored, counts.quarantined, counts.duplicates], [300, 298, 1, 1]);
    // One input, however many pieces.
    assert.equal((await workspaceStatus(ws)).ingests.inputs, inputsBefore + 1);
    // One report before the first piece and one a piece, the input done only at the last.
    assert.ok(progress.length >= 5, `${progress.length} progress reports`);
    assert.deepEqual(
      progress.map((p) => p.filesDone),
      [...progress.slice(1).map(() => 0), 1],
    );
    assert.ok(progress.every((p, i) => i === 0 || p.bytesDone >= progress[i - 1]!.bytesDone));
    assert.equal(progress.at(-1)?.bytesDone, Buffer.byteLength(text));
    const [bad] = await ws.engine.query<{ source_file: string; source_line: number }>(
      `SELECT source_file, source_line FROM quarantine WHERE source_file = {f:String}`,
      { f: file },
    );
    assert.deepEqual(bad, { source_file: file, source_line: 250 });
    // Every piece's ledger row holds the whole input's size (what a folder watcher compares).
    const [ledger] = await ws.engine.query<{ pieces: number; bytes: number }>(
      `SELECT count() AS pieces, min(bytes) AS bytes FROM ingests WHERE source_file = {f:String}`,
      { f: file },
    );
    assert.deepEqual(ledger, { pieces: progress.length - 1, bytes: Buffer.byteLength(text) });
    const rows = await ws.engine.query<{ event_id: string; source_line: number }>(
      `SELECT event_id, source_line FROM events WHERE event_id IN ('piece-0', 'piece-150', 'piece-299') ORDER BY source_line`,
    );
    assert.deepEqual(
      rows.map((r) => [r.event_id, r.source_line]),
      [
        ['piece-0', 1],
        ['piece-150', 151],
        ['piece-299', 300],
      ],
    );
    // Each piece keeps its own lines, found by their numbers in the whole input.
    const kept = await eventRecords(ws.engine, ['piece-0', 'piece-150', 'piece-299']);
    assert.deepEqual(
      kept.map((r) => r.raw),
      [lines[0], lines[150], lines[299]],
    );
    const [all] = await ws.engine.query<{ n: number }>(
      `SELECT count() AS n FROM raw_events WHERE source_file = {f:String}`,
      { f: file },
    );
    assert.equal(all?.n, 298);
    // The same lines compressed (1 KB), in pieces of their decompressed bytes: all already there.
    progress.length = 0;
    const again = await ingest(tempFile('pieces.jsonl.gz', zlib.gzipSync(text)), 2048);
    assert.deepEqual([again.read, again.stored, again.duplicates], [300, 0, 300]);
    assert.ok(progress.length >= 20, `${progress.length} progress reports`);
    // Cut short: the pieces before the damage are stored, and the error says so.
    const gz = zlib.gzipSync(text.replaceAll('piece-', 'cut-'));
    const truncated = tempFile('cut.jsonl.gz', gz.subarray(0, Math.floor(gz.length * 0.6)));
    await assert.rejects(ingest(truncated, 2048), (err: unknown) => {
      assert.ok(err instanceof UnreadableInput);
      assert.ok(err.partial.read > 0 && err.partial.read < 300, `${err.partial.read} lines read`);
      assert.equal(err.partial.stored, err.partial.read);
      return true;
    });
    // Whole (under the piece size), it stores nothing and is a user error naming the file.
    await assert.rejects(ingestInputs(ws, [truncated]), (err: unknown) => {
      assert.ok(err instanceof UserError);
      assert.match(err.message, /cut\.jsonl\.gz: cannot be decompressed/);
      assert.match(err.hint ?? '', /Nothing from it was stored/);
      return true;
    });
  });

  test('small files are read as one batch: each keeps its lines, counts and ledger row; a repeat is stored from the first', async () => {
    const t = 1950000000000; // 2031: a time range no other test uses
    const ev = (uid: string, over: Record<string, unknown> = {}) =>
      line({ time: t + Number(uid.slice(3)) * 1000, metadata: { uid }, ...over });
    // A name the engine would read as a glob: the batch reads links to the files, not their names.
    const a = tempFile('a {1,2}[x]*.jsonl', [ev('bt-1'), ev('bt-2'), '{"broken bt', ev('bt-3')].join('\n'));
    // The repeat of bt-2 differs (a redelivery after an edit): the first file's is kept.
    const b = tempFile(
      'b.jsonl.gz',
      zlib.gzipSync([ev('bt-2', { status_id: 2 }), ev('bt-4'), ev('bt-5', { severity_id: 3 })].join('\n')),
    );
    const c = tempFile('c.jsonl', '');
    const d = tempFile('d.jsonl', '{"broken bt\n');
    const inputs = [a, b, c, d].map((f) => ({ path: f, label: f, bytes: fs.statSync(f).size }));
    const progress: IngestProgress[] = [];
    const counts = await ingestFiles(ws.engine, inputs, {
      source: ocsf,
      enrichment: sqlEnrichAddresses,
      onProgress: (p) => progress.push(p),
    });
    assert.deepEqual(counts, {
      read: 8,
      stored: 5,
      quarantined: 1,
      duplicates: 2,
      by_reason: { invalid_json: 1 },
    });
    // One batch: one progress report after the first, one ingest id on every file's ledger row.
    assert.deepEqual(
      progress.map((p) => p.filesDone),
      [0, 4],
    );
    const ledger = await ws.engine.query<Record<string, unknown>>(
      `SELECT source_file, read, stored, quarantined, duplicates, bytes FROM ingests
       WHERE ingest_id = (SELECT ingest_id FROM ingests WHERE source_file = {a:String})
       ORDER BY indexOf({files:Array(String)}, source_file)`,
      { a, files: [a, b, c, d] },
    );
    assert.deepEqual(ledger, [
      { source_file: a, read: 4, stored: 3, quarantined: 1, duplicates: 0, bytes: inputs[0]!.bytes },
      { source_file: b, read: 3, stored: 2, quarantined: 0, duplicates: 1, bytes: inputs[1]!.bytes },
      { source_file: c, read: 0, stored: 0, quarantined: 0, duplicates: 0, bytes: 0 },
      { source_file: d, read: 1, stored: 0, quarantined: 0, duplicates: 1, bytes: inputs[3]!.bytes },
    ]);
    const rows = await ws.engine.query<Record<string, unknown>>(
      `SELECT event_id, source_file, source_line, status_id FROM events
       WHERE event_id LIKE 'bt-%' ORDER BY event_id`,
    );
    assert.deepEqual(rows, [
      { event_id: 'bt-1', source_file: a, source_line: 1, status_id: 1 },
      { event_id: 'bt-2', source_file: a, source_line: 2, status_id: 1 },
      { event_id: 'bt-3', source_file: a, source_line: 4, status_id: 1 },
      { event_id: 'bt-4', source_file: b, source_line: 2, status_id: 1 },
      { event_id: 'bt-5', source_file: b, source_line: 3, status_id: 1 },
    ]);
    // Each event's own line is kept, from its own file, and read back with what it does not map.
    const records = await eventRecords(
      ws.engine,
      rows.map((r) => String(r.event_id)),
    );
    assert.deepEqual(
      records.map((r) => [r.event_id, r.raw, r.unmapped]),
      [
        ['bt-1', ev('bt-1'), ''],
        ['bt-2', ev('bt-2'), ''],
        ['bt-3', ev('bt-3'), ''],
        ['bt-4', ev('bt-4'), ''],
        ['bt-5', ev('bt-5', { severity_id: 3 }), '{"severity_id":3}'],
      ],
    );
    const bad = await ws.engine.query<Record<string, unknown>>(
      `SELECT source_file, source_line FROM quarantine WHERE source_file IN ({a:String}, {d:String})`,
      { a, d },
    );
    assert.deepEqual(bad, [{ source_file: a, source_line: 3 }]);
    // Alone, such a name is still the one file it names, not a pattern.
    const alone = (await ingestInputs(ws, [a])).counts;
    assert.deepEqual([alone.read, alone.duplicates], [4, 4]);
    // A damaged file in a batch fails it whole; read again one by one, the error names it and
    // the files before it are stored.
    const good = tempFile('good.jsonl', ev('bt-6'));
    const cut = zlib.gzipSync(ev('bt-7'));
    const damaged = tempFile('damaged.jsonl.gz', cut.subarray(0, cut.length - 8));
    const after = tempFile('after.jsonl', ev('bt-8'));
    await assert.rejects(ingestInputs(ws, [good, damaged, after]), (err: unknown) => {
      assert.ok(err instanceof UserError);
      assert.match(err.message, /damaged\.jsonl\.gz: cannot be decompressed/);
      assert.match(err.hint ?? '', /the 1 input\(s\) before it were ingested/);
      return true;
    });
    const [stored] = await ws.engine.query<{ ids: string[] }>(
      `SELECT groupArray(event_id) AS ids FROM events WHERE event_id IN ('bt-6', 'bt-7', 'bt-8')`,
    );
    assert.deepEqual(stored!.ids, ['bt-6']);
  });

  test('gzip files are read by extension', async () => {
    const text = [line({ metadata: { uid: 'gz-1' } }), line({ metadata: { uid: 'gz-2' } }), '{oops'].join(
      '\n',
    );
    const file = tempFile('day.jsonl.gz', zlib.gzipSync(text));
    const { counts } = await ingestInputs(ws, [file]);
    assert.deepEqual([counts.read, counts.stored, counts.quarantined], [3, 2, 1]);
  });

  test('a 10 MB line is quarantined over the default bound, and stored when the bound allows it', async () => {
    const big = line({ metadata: { uid: 'big-1' }, padding: 'x'.repeat(10 * 1024 * 1024) });
    const file = tempFile('big.jsonl', `${big}\n${line({ metadata: { uid: 'small-1' } })}\n`);
    const first = (await ingestInputs(ws, [file])).counts;
    assert.deepEqual(first.by_reason, { line_too_long: 1 });
    assert.equal(first.stored, 1);
    const settings = tempFile('settings.yaml', 'ingest:\n  max_line_bytes: 16777216\n');
    const second = (await ingestInputs(ws, [file], { reference: { settings } })).counts;
    assert.equal(second.stored, 1);
    const [record] = await eventRecords(ws.engine, ['big-1']);
    assert.equal(record?.raw, big);
    assert.ok((record?.unmapped.length ?? 0) > 10 * 1024 * 1024);
  });

  test('folders and globs expand to their log files', async () => {
    const dir = path.dirname(tempFile('a.jsonl', `${line({ metadata: { uid: 'dir-1' } })}\n`));
    fs.writeFileSync(path.join(dir, 'b.jsonl'), `${line({ metadata: { uid: 'dir-2' } })}\n`);
    fs.writeFileSync(path.join(dir, 'notes.md'), 'not a log');
    const viaDir = (await ingestInputs(ws, [dir])).counts;
    assert.deepEqual([viaDir.read, viaDir.stored], [2, 2]);
    const viaGlob = (await ingestInputs(ws, [path.join(dir, '*.jsonl')])).counts;
    assert.deepEqual([viaGlob.read, viaGlob.duplicates], [2, 2]);
  });
});
