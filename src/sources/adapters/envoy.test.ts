import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Workspace } from '../../store/index.ts';
import { tempFile, tempWorkspace } from '../../store/testing.ts';
import { ingestInputs } from '../index.ts';
import { fixture, quarantined, reconciles, storedEvents } from './testkit.ts';

describe('Envoy JSON access logs', () => {
  let ws: Workspace & { dispose(): Promise<void> };
  before(async () => {
    ws = await tempWorkspace();
  });
  after(async () => {
    await ws.dispose();
  });

  test('the golden file maps Envoy default fields; addresses lose their port', async () => {
    const file = fixture('envoy.fixture.ndjson');
    const { counts } = await ingestInputs(ws, [file], { format: 'envoy' });
    reconciles(counts);
    assert.deepEqual(counts, {
      read: 4,
      stored: 2,
      quarantined: 2,
      duplicates: 0,
      by_reason: { bad_ip: 1, missing_field: 1 },
    });
    const rows = await storedEvents(ws, file);
    assert.deepEqual(
      rows.map((r) => [
        r.t,
        r.ip,
        r.actor_uid,
        r.token_id,
        r.key_id,
        r.http_method,
        r.activity_id,
        r.status_id,
        r.url_path,
        r.http_status,
        r.response_bytes,
        r.request_id,
      ]),
      [
        [
          '2025-06-24 02:32:45.123',
          '223.38.12.7',
          'c-000042',
          'tok-9f2c',
          'k-cust-2024',
          'GET',
          2,
          1,
          '/v1/me/addresses',
          200,
          1832,
          '0b0c7a1e-4f3e-4b7e-9d8e-2f5a1c3b4d5e',
        ],
        [
          '2025-06-24 02:32:46.000',
          '2001:e60:1234::5',
          'c-000043',
          '',
          '',
          'PATCH',
          3,
          2,
          '/v1/me/profile',
          500,
          57,
          'r-2',
        ],
      ],
    );
    // X-Forwarded-For is not trusted by default: it stays in unmapped with the query string.
    const unmapped = JSON.parse(String(rows[0]!.unmapped));
    assert.equal(unmapped.x_forwarded_for, '203.0.113.9, 10.0.0.1');
    assert.equal(unmapped.query, 'page=2');
    assert.equal(unmapped.upstream_host, '10.1.2.3:8080');
    assert.deepEqual(await quarantined(ws, file), [
      [3, 'bad_ip', 'client_ip: not-an-address:1'],
      [4, 'missing_field', 'principal (jwt_sub | principal)'],
    ]);
  });

  test('a field map can trust x_forwarded_for (first hop)', async () => {
    const map = tempFile('envoy-map.json', JSON.stringify({ forwarded_for: 'x_forwarded_for' }));
    const log = tempFile(
      'envoy.log',
      fs_line({ x_forwarded_for: '203.0.113.9, 10.0.0.1', downstream_remote_address: '10.0.0.1:80' }),
    );
    const { counts } = await ingestInputs(ws, [log], { format: 'envoy', fieldMap: map });
    assert.equal(counts.stored, 1);
    const [row] = await storedEvents(ws, log);
    assert.equal(row!.ip, '203.0.113.9');
  });
});

function fs_line(over: Record<string, unknown>): string {
  return JSON.stringify({
    start_time: '2025-06-24T02:40:00Z',
    method: 'GET',
    path: '/v1/me',
    response_code: 200,
    jwt_sub: 'c-9',
    ...over,
  });
}
