import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Workspace } from '../../store/index.ts';
import { tempFile, tempWorkspace } from '../../store/testing.ts';
import { loadIpDatabase, sqlEnrichAddresses } from '../enrich/index.ts';
import { type IngestProgress, ingestFiles, ingestInputs } from '../index.ts';
import { pgaudit } from './pgaudit.ts';
import { fixture, quarantined, reconciles, storedEvents } from './testkit.ts';

/**
 * What the fixture gives: 9 physical lines, 7 records (one statement spans 3 lines); SESSION and
 * OBJECT entries of the same statement are one event.
 */
const FIXTURE_COUNTS = {
  read: 7,
  stored: 2,
  quarantined: 4,
  duplicates: 1,
  by_reason: { bad_ip: 1, invalid_csv: 1, not_audit: 1, unsupported_class: 1 },
};

describe('PostgreSQL pgaudit csvlog', () => {
  let ws: Workspace & { dispose(): Promise<void> };
  before(async () => {
    ws = await tempWorkspace();
  });
  after(async () => {
    await ws.dispose();
  });

  test('audit reads and writes become events; everything else is quarantined with its reason', async () => {
    const file = fixture('pgaudit.fixture.csv');
    const { counts } = await ingestInputs(ws, [file], { format: 'pgaudit' });
    reconciles(counts);
    assert.deepEqual(counts, FIXTURE_COUNTS);
    const rows = await storedEvents(ws, file);
    assert.equal(rows.length, 2);
    const { unmapped, source_line, ...read } = rows[0]!;
    assert.ok(source_line === 1 || source_line === 2);
    assert.deepEqual(read, {
      event_id: 'pg:66793a1d.1092:1:1:public.customers',
      t: '2025-06-24 02:32:45.123',
      class_uid: 6003,
      activity_id: 2,
      status_id: 1,
      actor_uid: 'support_jane',
      actor_type: '',
      token_id: '',
      key_id: '',
      token_created_ms: 0,
      issuer: '',
      ip: '10.20.30.40',
      http_method: '',
      url_path: '',
      user_agent: '',
      operation: 'SELECT public.customers',
      request_id: '',
      subject_ids: [],
      subject_types: [],
      http_status: 0,
      response_bytes: 0,
      is_mfa: -1,
    });
    const rest = JSON.parse(String(unmapped));
    assert.equal(rest.statement, 'SELECT name, phone FROM public.customers WHERE id = $1');
    assert.equal(rest.database, 'shop');
    assert.equal(rest.session_id, '66793a1d.1092');
    // A multi-line statement, a KST time, a Unix-socket connection.
    const write = rows[1]!;
    assert.deepEqual(
      [write.source_line, write.t, write.ip, write.actor_uid, write.operation, write.activity_id],
      [3, '2025-06-24 02:33:00.000', '127.0.0.1', 'etl', 'UPDATE public.addresses', 3],
    );
    assert.equal(
      JSON.parse(String(write.unmapped)).statement,
      "UPDATE public.addresses\n   SET city = 'Seoul'\n WHERE customer_id = 42",
    );
    assert.deepEqual(await quarantined(ws, file), [
      [
        6,
        'not_audit',
        'disconnection: session time: 0:04:00.000 user=support_jane database=shop host=10.20.30.40 port=54321',
      ],
      [7, 'unsupported_class', 'pgaudit class DDL is not READ or WRITE'],
      [8, 'bad_ip', 'connection_from: db-host.internal'],
      [9, 'invalid_csv', 'expected a csvlog record of 23 to 26 columns, read 9'],
    ]);
  });

  test('a large csvlog is cut into pieces only where a record starts, and keeps its line numbers', async () => {
    // The same records under other sessions (new event ids and lines), in pieces of every line.
    const text = fs.readFileSync(fixture('pgaudit.fixture.csv'), 'utf8').replaceAll('66793a', '66793b');
    const file = tempFile('pieces.csv', text);
    const progress: IngestProgress[] = [];
    await loadIpDatabase(ws.engine);
    const counts = await ingestFiles(
      ws.engine,
      [{ path: file, label: file, bytes: Buffer.byteLength(text) }],
      {
        source: pgaudit,
        enrichment: sqlEnrichAddresses,
        pieceBytes: 64,
        onProgress: (p) => progress.push(p),
      },
    );
    // 9 lines, 7 pieces (a report after each, and one before): the statement over 3 lines stays
    // whole, so the counts are those of a whole read.
    assert.equal(progress.length, 8);
    assert.deepEqual(counts, FIXTURE_COUNTS);
    assert.deepEqual(
      (await storedEvents(ws, file)).map((r) => r.source_line),
      [1, 3],
    );
    assert.deepEqual(
      (await quarantined(ws, file)).map((q) => q[0]),
      [6, 7, 8, 9],
    );
  });
});
