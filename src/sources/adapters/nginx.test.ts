import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Workspace } from '../../store/index.ts';
import { tempFile, tempWorkspace } from '../../store/testing.ts';
import { ingestInputs } from '../index.ts';
import { fixture, quarantined, reconciles, storedEvents } from './testkit.ts';

describe('nginx JSON access logs', () => {
  let ws: Workspace & { dispose(): Promise<void> };
  before(async () => {
    ws = await tempWorkspace();
  });
  after(async () => {
    await ws.dispose();
  });

  test('the golden file maps each request to an API Activity event; bad lines are quarantined', async () => {
    const file = fixture('nginx.fixture.ndjson');
    const { counts } = await ingestInputs(ws, [file], { format: 'nginx' });
    reconciles(counts);
    assert.deepEqual(counts, {
      read: 10,
      stored: 3,
      quarantined: 7,
      duplicates: 0,
      by_reason: { bad_ip: 1, bad_time: 1, invalid_json: 2, missing_field: 2, wrong_type: 1 },
    });
    const rows = await storedEvents(ws, file);
    assert.equal(rows.length, 3);
    assert.deepEqual(rows[0], {
      event_id: rows[0]!.event_id,
      t: '2025-06-24 02:32:45.000',
      class_uid: 6003,
      activity_id: 2,
      status_id: 1,
      actor_uid: 'c-000042',
      actor_type: '',
      token_id: 'tok-9f2c',
      key_id: 'k-cust-2024',
      token_created_ms: 0,
      issuer: '',
      ip: '223.38.12.7',
      http_method: 'GET',
      url_path: '/v1/customers/c-000042/addresses',
      user_agent: 'ShopApp/5.2 (iPhone; iOS 17.5)',
      operation: '',
      request_id: '5f1e0c2a9b',
      subject_ids: [],
      subject_types: [],
      http_status: 200,
      response_bytes: 1832,
      is_mfa: -1,
      source_line: 1,
      unmapped: '{"upstream_response_time":"0.012","query":"fields=all"}',
    });
    assert.match(String(rows[0]!.event_id), /^h:[0-9A-F]{32}$/);
    // Epoch seconds with a fraction ($msec), a lower-case method, a string status, "-" as blank.
    assert.deepEqual(
      [rows[1]!.t, rows[1]!.http_method, rows[1]!.activity_id, rows[1]!.status_id, rows[1]!.http_status],
      ['2025-06-24 02:32:46.250', 'POST', 1, 2, 401],
    );
    assert.equal(rows[1]!.user_agent, '');
    // Common log format time ($time_local), an IPv6 client, DELETE.
    assert.deepEqual(
      [rows[2]!.t, rows[2]!.ip, rows[2]!.activity_id, rows[2]!.url_path],
      ['2025-06-24 02:32:47.000', '2001:e60:1234::5', 4, '/v1/customers/c-000043'],
    );
    assert.deepEqual(await quarantined(ws, file), [
      [4, 'missing_field', 'principal (jwt_sub | jwt_claim_sub | remote_user)'],
      [5, 'bad_time', 'time: yesterday-ish'],
      [6, 'bad_ip', 'client_ip: 300.1.2.3'],
      [7, 'wrong_type', 'status: OK'],
      [8, 'invalid_json', ''],
      [9, 'invalid_json', ''],
      [10, 'missing_field', 'method (request_method | method)'],
    ]);
  });

  test('re-ingesting the file stores and quarantines nothing new', async () => {
    const { counts } = await ingestInputs(ws, [fixture('nginx.fixture.ndjson')], { format: 'nginx' });
    assert.deepEqual([counts.read, counts.stored, counts.quarantined, counts.duplicates], [10, 0, 0, 10]);
  });

  test('a field map renames fields, trusts X-Forwarded-For and reads subjects', async () => {
    const log = tempFile(
      'custom.log',
      [
        JSON.stringify({
          ts: 1750732365123,
          peer: '10.0.0.5',
          xff: '203.0.113.9, 10.0.0.5',
          verb: 'GET',
          route: '/v1/addresses',
          code: 200,
          auth: { sub: 'e-0042', jti: 'tok-1', kid: 'k-emp' },
          returned: ['c-1', 'c-2'],
          kind: 'Employee',
          upstream: 'u1',
        }),
        JSON.stringify({
          ts: 1750732366000,
          peer: '10.0.0.6',
          verb: 'GET',
          route: '/v1/x',
          code: 200,
          auth: { sub: 'e-1' },
          returned: 'r-7;r-8',
        }),
        // The default keys mean nothing under this map.
        JSON.stringify({
          time_iso8601: '2025-06-24T02:32:45Z',
          remote_addr: '1.2.3.4',
          request_method: 'GET',
          uri: '/',
          status: 200,
          jwt_sub: 'c-1',
        }),
      ].join('\n'),
    );
    const map = tempFile(
      'map.yaml',
      [
        'time: ts',
        'client_ip: peer',
        'forwarded_for: xff',
        'method: verb',
        'path: route',
        'status: code',
        'principal: auth.sub',
        'principal_type: kind',
        'token_id: auth.jti',
        'key_id: auth.kid',
        'subjects: returned',
        'subject_type: recipient',
      ].join('\n'),
    );
    const { counts } = await ingestInputs(ws, [log], { format: 'nginx', fieldMap: map });
    reconciles(counts);
    assert.deepEqual([counts.read, counts.stored, counts.quarantined], [3, 2, 1]);
    const rows = await storedEvents(ws, log);
    assert.deepEqual(
      rows.map((r) => [
        r.t,
        r.ip,
        r.actor_uid,
        r.actor_type,
        r.token_id,
        r.key_id,
        r.subject_ids,
        r.subject_types,
      ]),
      [
        [
          '2025-06-24 02:32:45.123',
          '203.0.113.9',
          'e-0042',
          'Employee',
          'tok-1',
          'k-emp',
          ['c-1', 'c-2'],
          ['recipient', 'recipient'],
        ],
        [
          '2025-06-24 02:32:46.000',
          '10.0.0.6',
          'e-1',
          '',
          '',
          '',
          ['r-7', 'r-8'],
          ['recipient', 'recipient'],
        ],
      ],
    );
    // Keys the map does not use are kept; nested objects the map reads from are not repeated.
    assert.equal(rows[0]!.unmapped, '{"upstream":"u1"}');
    assert.deepEqual(await quarantined(ws, log), [[3, 'missing_field', 'time (ts)']]);
  });

  test('a bad field map is a user error naming the key', async () => {
    const map = tempFile('bad.yaml', 'princpal: jwt_sub\nstatus: []\n');
    await assert.rejects(
      ingestInputs(ws, [fixture('nginx.fixture.ndjson')], { format: 'nginx', fieldMap: map }),
      (e: Error) =>
        e.name === 'UserError' &&
        /unknown key "princpal"/.test(e.message) &&
        /status is required/.test(e.message),
    );
    await assert.rejects(
      ingestInputs(ws, [fixture('nginx.fixture.ndjson')], { format: 'pgaudit', fieldMap: map }),
      /does not apply to --format pgaudit/,
    );
  });
});
