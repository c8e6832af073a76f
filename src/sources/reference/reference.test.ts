import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Workspace } from '../../store/index.ts';
import { tempFile, tempWorkspace } from '../../store/testing.ts';
import { ingestInputs } from '../index.ts';
import { workspaceStatus } from '../status.ts';
import { catalogSql, currentCatalog, ReferenceFileError, templateToPattern } from './index.ts';

const testdata = path.join(import.meta.dirname, '..', 'ocsf', 'testdata');
const f = (name: string) => path.join(testdata, name);

describe('reference data', () => {
  let ws: Workspace & { dispose(): Promise<void> };
  before(async () => {
    ws = await tempWorkspace();
  });
  after(async () => {
    await ws.dispose();
  });

  test('a newer roster keeps history: departures, new hires and people dropped from the export', async () => {
    await ingestInputs(ws, [], { reference: { people: f('people.v1.csv') } });
    await ingestInputs(ws, [], { reference: { people: f('people.v2.csv') } });
    const current = await ws.engine.query<{ person_id: string; left_on: string | null; country: string }>(
      'SELECT person_id, toString(left_on) AS left_on, country FROM people_current ORDER BY person_id',
    );
    assert.deepEqual(current, [
      { person_id: 'p-001', left_on: '2025-01-01', country: 'KR' },
      { person_id: 'p-002', left_on: null, country: 'KR' },
      { person_id: 'p-003', left_on: null, country: 'KR' }, // absent from v2, still known
      { person_id: 'p-004', left_on: null, country: 'VN' },
    ]);
    const [loads] = await ws.engine.query<{ n: number }>(
      "SELECT count() AS n FROM reference_loads WHERE kind = 'people'",
    );
    assert.equal(loads!.n, 2);
    // The first snapshot is intact: p-001 was employed as of the first load.
    const [first] = await ws.engine.query<{ left_on: string | null }>(
      `SELECT toString(left_on) AS left_on FROM people WHERE person_id = 'p-001' ORDER BY load_seq LIMIT 1`,
    );
    assert.equal(first!.left_on, null);
    const principals = await ws.engine.query<{ principal_id: string; person_id: string }>(
      `SELECT principal_id, person_id FROM principals_current WHERE person_id = 'p-001' ORDER BY principal_id`,
    );
    assert.deepEqual(
      principals.map((p) => p.principal_id),
      ['e-001', 'e-001-admin'],
    );
  });

  test('a malformed roster names file, line and column, and loads nothing', async () => {
    await assert.rejects(
      ingestInputs(ws, [], { reference: { people: f('people.bad.csv') } }),
      (err: unknown) => {
        assert.ok(err instanceof ReferenceFileError);
        assert.match(
          err.message,
          /people\.bad\.csv:3 column country: "Korea" is not an ISO 3166 alpha-2 code/,
        );
        assert.match(err.message, /people\.bad\.csv:3 column hired_on: "2021-13-01" is not an ISO date/);
        return true;
      },
    );
    const [loads] = await ws.engine.query<{ n: number }>(
      "SELECT count() AS n FROM reference_loads WHERE kind = 'people'",
    );
    assert.equal(loads!.n, 2);
  });

  test('a missing column is named', async () => {
    const file = tempFile('keys.csv', 'key_id,purpose\nk1,x\n');
    await assert.rejects(
      ingestInputs(ws, [], { reference: { keys: file } }),
      /header lacks column\(s\): created_on, retired_on, custodians/,
    );
  });

  test('keys and services load', async () => {
    const { reference } = await ingestInputs(ws, [], {
      reference: { keys: f('keys.csv'), services: f('services.csv') },
    });
    assert.deepEqual(
      reference.map((r) => [r.kind, r.rows]),
      [
        ['keys', 2],
        ['services', 1],
      ],
    );
    const keys = await ws.engine.query<{ key_id: string; retired_on: string | null; custodians: string[] }>(
      'SELECT key_id, toString(retired_on) AS retired_on, custodians FROM keys_current ORDER BY key_id',
    );
    assert.deepEqual(keys, [
      { key_id: 'k-cust-2024', retired_on: null, custodians: ['p-001', 'p-002'] },
      { key_id: 'k-emp-2023', retired_on: '2025-02-01', custodians: ['p-001'] },
    ]);
  });

  test('a catalog naming an unknown category is refused with its line', async () => {
    await assert.rejects(
      ingestInputs(ws, [], { reference: { catalog: f('catalog.bad.yaml') } }),
      /catalog\.bad\.yaml:4 column operations: "GetProfile" names unknown category "emial"/,
    );
  });

  test('path templates match concrete paths, with or without a query string', () => {
    const re = new RegExp(templateToPattern('GET /v1/customers/{id}/profile'));
    assert.ok(re.test('GET /v1/customers/c-1/profile'));
    assert.ok(re.test('GET /v1/customers/c-1/profile?x=1'));
    assert.ok(!re.test('GET /v1/customers/c-1/profile/extra'));
    assert.ok(!re.test('POST /v1/customers/c-1/profile'));
  });

  test('catalog gaps are listed, and a catalog change resolves them without re-ingesting', async () => {
    await ingestInputs(ws, [f('api-activity.golden.jsonl')], { reference: { catalog: f('catalog.yaml') } });
    const before = await workspaceStatus(ws);
    // GetShippingAddresses and UpdateShippingLabel are known, the profile path matches a template: no gaps.
    assert.deepEqual(before.catalog_gaps, []);
    const extra = tempFile(
      'gap.jsonl',
      [
        JSON.stringify({
          time: 1750732400000,
          class_uid: 6003,
          activity_id: 2,
          status_id: 1,
          actor: { user: { uid: 'c-9' } },
          src_endpoint: { ip: '1.1.1.1' },
          api: { operation: 'GetProfile' },
          metadata: { uid: 'gap-1' },
        }),
        JSON.stringify({
          time: 1750732400001,
          class_uid: 6003,
          activity_id: 2,
          status_id: 1,
          actor: { user: { uid: 'c-9' } },
          src_endpoint: { ip: '1.1.1.1' },
          http_request: { http_method: 'GET', url: { path: '/v1/orders/123456/items' } },
          metadata: { uid: 'gap-2' },
        }),
      ].join('\n'),
    );
    await ingestInputs(ws, [extra]);
    const gaps = (await workspaceStatus(ws)).catalog_gaps.map((g) => g.operation).sort();
    assert.deepEqual(gaps, ['GET /v1/orders/{id}/items', 'GetProfile']);

    const categoriesOf = async (eventId: string) => {
      const c = catalogSql(await currentCatalog(ws.engine), ws.engine.dialect);
      const [row] = await ws.engine.query<{ cats: string[] }>(
        `SELECT ${c.categories} AS cats FROM events WHERE event_id = {id:String}`,
        { id: eventId },
      );
      return row!.cats;
    };
    assert.deepEqual(await categoriesOf('gap-1'), []);
    await ingestInputs(ws, [], { reference: { catalog: f('catalog.v2.yaml') } });
    assert.deepEqual(await categoriesOf('gap-1'), ['name', 'email']);
    assert.deepEqual(
      (await workspaceStatus(ws)).catalog_gaps.map((g) => g.operation),
      ['GET /v1/orders/{id}/items'],
    );
  });
});
