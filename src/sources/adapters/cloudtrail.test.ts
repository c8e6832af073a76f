import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Workspace } from '../../store/index.ts';
import { tempWorkspace } from '../../store/testing.ts';
import { ingestInputs } from '../index.ts';
import { fixture, quarantined, reconciles, storedEvents } from './testkit.ts';

describe('AWS CloudTrail records', () => {
  let ws: Workspace & { dispose(): Promise<void> };
  before(async () => {
    ws = await tempWorkspace();
  });
  after(async () => {
    await ws.dispose();
  });

  test('single records and {"Records":[…]} lines map per record; read counts records', async () => {
    const file = fixture('cloudtrail.fixture.ndjson');
    const { counts } = await ingestInputs(ws, [file], { format: 'cloudtrail' });
    reconciles(counts);
    // 5 lines: a record, a 3-record document, an empty document, two more records.
    assert.deepEqual(counts, {
      read: 7,
      stored: 3,
      quarantined: 4,
      duplicates: 0,
      by_reason: { bad_ip: 1, invalid_json: 1, missing_field: 2 },
    });
    const rows = await storedEvents(ws, file);
    const get = rows.find((r) => r.event_id === 'e1a2b3c4-0001')!;
    const { unmapped, ...columns } = get;
    assert.deepEqual(columns, {
      event_id: 'e1a2b3c4-0001',
      t: '2025-06-24 02:32:45.000',
      class_uid: 6003,
      activity_id: 2,
      status_id: 1,
      actor_uid: 'arn:aws:sts::123456789012:assumed-role/support/jane',
      actor_type: 'AssumedRole',
      token_id: '',
      key_id: '',
      token_created_ms: 1750726800000,
      issuer: 'arn:aws:iam::123456789012:role/support',
      ip: '223.38.12.7',
      http_method: '',
      url_path: '',
      user_agent: 'aws-cli/2.15.0',
      operation: 'GetObject',
      request_id: 'REQ1',
      subject_ids: [],
      subject_types: [],
      http_status: 0,
      response_bytes: 0,
      is_mfa: 1,
      source_line: 1,
    });
    // Resources are not people: kept in unmapped with the other unmapped keys.
    const rest = JSON.parse(String(unmapped));
    assert.equal(rest.resources[0].ARN, 'arn:aws:s3:::customer-exports/2025/06/customers.csv');
    assert.equal(rest.eventSource, 's3.amazonaws.com');
    assert.equal(rest.userIdentity.accessKeyId, 'ASIAEXAMPLE');
    assert.equal(rest.eventTime, undefined);

    const denied = rows.find((r) => r.event_id === 'e1a2b3c4-0002')!;
    assert.deepEqual(
      [denied.source_line, denied.operation, denied.activity_id, denied.status_id, denied.actor_uid],
      [2, 'DeleteBucket', 4, 2, 'arn:aws:iam::123456789012:user/bob'],
    );
    assert.equal(JSON.parse(String(denied.unmapped)).errorCode, 'AccessDenied');
    const login = rows.find((r) => r.event_id === 'e1a2b3c4-0003')!;
    assert.deepEqual(
      [login.source_line, login.class_uid, login.activity_id, login.status_id, login.is_mfa],
      [2, 3002, 1, 1, 0],
    );
    assert.deepEqual(await quarantined(ws, file), [
      [2, 'bad_ip', 'Records[2]: sourceIPAddress: s3.amazonaws.com'],
      [3, 'missing_field', 'Records (empty or not a list)'],
      [4, 'missing_field', 'userIdentity.arn or userIdentity.principalId'],
      [5, 'invalid_json', ''],
    ]);
    // A quarantined record keeps the record itself, not the whole document.
    const [raw] = await ws.engine.query<{ raw: string }>(
      `SELECT raw FROM quarantine WHERE source_file = {f:String} AND source_line = 2`,
      { f: file },
    );
    assert.equal(JSON.parse(raw!.raw).eventID, 'e1a2b3c4-0004');
  });

  test('re-ingesting stores nothing twice', async () => {
    const { counts } = await ingestInputs(ws, [fixture('cloudtrail.fixture.ndjson')], {
      format: 'cloudtrail',
    });
    assert.deepEqual([counts.read, counts.stored, counts.quarantined, counts.duplicates], [7, 0, 0, 7]);
  });
});
