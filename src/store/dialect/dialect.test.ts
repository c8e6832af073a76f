import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ChdbEngine } from '../chdb.ts';
import { ClickHouseServerEngine } from '../clickhouse.ts';
import { type LocalCluster, startLocalCluster, stopLocalCluster } from '../cluster-script.ts';
import type { Engine } from '../engine.ts';
import { type Dialect, dialectForVersion, dialects } from './index.ts';

/**
 * The dialect spec (Malloy's escape.spec pattern): every registered dialect's SQL pieces are run on
 * the engine that dialect is for — modern on chDB, legacy on Debian's 18.16 server — and must give
 * the same answers. Registering a dialect without saying which engine runs it fails here.
 */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-dialect-'));
let cluster: LocalCluster | { skip: string } | null = null;

const engines: Record<string, () => Promise<Engine | string>> = {
  'clickhouse-modern': async () => ChdbEngine.open(path.join(tmp, 'chdb')),
  'clickhouse-18': async () => {
    // Own ports, so this file can run beside clickhouse.test.ts.
    cluster = startLocalCluster(path.join(tmp, 'cluster'), 19100, 18223);
    if ('skip' in cluster) return cluster.skip;
    return ClickHouseServerEngine.connect(
      `clickhouse://127.0.0.1:${cluster.http[0]}/vigil_dialect?max_execution_time=60`,
    );
  },
};

after(() => {
  if (cluster && !('skip' in cluster)) stopLocalCluster(cluster.dir);
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('every registered dialect names the engine its spec runs on', () => {
  for (const d of dialects)
    assert.ok(engines[d.name], `no engine for dialect ${d.name}: add it to engines in dialect.test.ts`);
});

test('server versions choose a dialect; untested versions are refused', () => {
  assert.equal(dialectForVersion('18.16.1')?.name, 'clickhouse-18');
  assert.equal(dialectForVersion('24.8.4.13')?.name, 'clickhouse-modern');
  assert.equal(dialectForVersion('20.3.1'), null);
});

const one = async <T>(e: Engine, sql: string): Promise<T> => {
  const rows = await e.query<{ v: T }>(`SELECT ${sql} AS v`);
  return (rows[0] as { v: T }).v;
};

for (const d of dialects) {
  describe(`dialect ${d.name}`, () => {
    let e: Engine | null = null;
    let skip: string | null = null;
    before(async () => {
      const made = await (engines[d.name] as () => Promise<Engine | string>)();
      if (typeof made === 'string') skip = made;
      else e = made;
    });
    after(async () => e?.close());
    const run = (name: string, fn: (e: Engine, d: Dialect) => Promise<void>) =>
      test(name, async (t) => {
        if (skip) return t.skip(skip);
        await fn(e as Engine, d);
      });

    run('column types, codecs, skip indexes and MergeTree clauses are accepted', async (e, d) => {
      const index = d.sqlSkipIndex('idx_ip', 'ip', 'bloom_filter(0.01)');
      await e.exec(`CREATE TABLE IF NOT EXISTS spec_t (
        t ${d.timeType()}, ip ${d.ipType()}, k ${d.lowCardinality('String')}, raw ${d.withCodec('String', 'ZSTD(3)')}
        ${index ? `, ${index}` : ''}
      ) ${d.sqlMergeTree({ partitionBy: 'toYYYYMM(t)', orderBy: '(toStartOfHour(t), k, t)' })}`);
      await e.insert('spec_t', [{ t: '2025-06-24 10:00:01.250', ip: '203.0.113.9', k: 'a', raw: 'x' }]);
      const rows = await e.query<{ ip: string; t: string }>(
        `SELECT ${d.sqlIpToString('ip')} AS ip, toString(${d.sqlWindowStart('t', 60)}) AS t FROM spec_t`,
      );
      assert.deepEqual(rows, [{ ip: '203.0.113.9', t: '2025-06-24 10:00:00' }]);
      assert.equal(index === null, !d.supportsSkipIndexes);
    });

    run('windows start where toStartOfInterval puts them (UTC, epoch-aligned)', async (e, d) => {
      const times = ['2025-06-24 10:07:31', '2025-01-01 00:00:00', '2024-12-31 23:59:59'];
      for (const s of [60, 300, 600, 900, 3600, 7200, 86400]) {
        for (const time of times) {
          const epoch = Date.parse(`${time.replace(' ', 'T')}Z`) / 1000;
          const want = new Date(Math.floor(epoch / s) * s * 1000)
            .toISOString()
            .slice(0, 19)
            .replace('T', ' ');
          const got = await one<string>(
            e,
            `toString(${d.sqlWindowStart(`toDateTime('${time}', 'UTC')`, s)})`,
          );
          assert.equal(got, want, `${s} s window of ${time}`);
        }
      }
    });

    run('epoch milliseconds round-trip (to the second without DateTime64)', async (e, d) => {
      const ms = 1750759651250;
      const got = Number(await one<number | string>(e, d.sqlEpochMs(d.sqlFromEpochMs(String(ms)))));
      assert.equal(got, d.supportsDateTime64 ? ms : Math.floor(ms / 1000) * 1000);
    });

    run('addresses: text in, text out, /24 and /48 subnets', async (e, d) => {
      const cases: [string, string][] = [
        ['1.2.3.200', '1.2.3.0/24'],
        ['10.0.0.1', '10.0.0.0/24'],
        ['2001:db8:1:2::1', '2001:db8:1::/48'],
        ['2406:5900:2:ffff::9', '2406:5900:2::/48'],
      ];
      for (const [ip, subnet] of cases) {
        const v = d.sqlIpFromString(d.sqlString(ip));
        assert.equal(await one<string>(e, d.sqlIpToString(v)), ip);
        assert.equal(await one<string>(e, d.sqlSubnet(v)), subnet);
      }
    });

    run('distinct counts', async (e, d) => {
      const [row] = await e.query<{ exact: number; approx: number }>(
        `SELECT ${d.sqlExactDistinct('x')} AS exact, ${d.sqlApproxDistinct('x')} AS approx
         FROM (SELECT arrayJoin(['a','b','a','c']) AS x)`,
      );
      assert.deepEqual(row, { exact: 3, approx: 3 });
    });

    run('string literals survive quotes, backslashes and control characters', async (e, d) => {
      for (const s of ["O'Brien", 'back\\slash', 'tab\tnew\nline', "\\'", '']) {
        assert.equal(await one<string>(e, d.sqlString(s)), s);
      }
    });

    run('parameter literals have the parameter type', async (e, d) => {
      assert.equal(await one<string>(e, `toTypeName(${d.sqlLiteral(7, 'UInt32')})`), 'UInt32');
      assert.equal(await one<string>(e, d.sqlLiteral("it's", 'String')), "it's");
      assert.deepEqual(await one<string[]>(e, d.sqlLiteral(['a', "b'c"], 'Array(String)')), ['a', "b'c"]);
      assert.equal(await one<string | null>(e, d.sqlLiteral(null, 'Nullable(String)')), null);
      assert.equal(
        await one<string>(e, `toString(${d.sqlLiteral('2025-06-24T10:00:01Z', "DateTime('UTC')")})`),
        '2025-06-24 10:00:01',
      );
      assert.throws(() => d.sqlLiteral('1; DROP TABLE x', 'UInt32'), /not a number/);
    });

    run('the engine binds or inlines {name:Type} parameters', async (e) => {
      const rows = await e.query<{ s: string; n: number; has: number }>(
        // chDB cannot bind array elements holding a quote (see chdb.ts), so the array has none.
        "SELECT {s:String} AS s, {n:UInt32} + 1 AS n, has({a:Array(String)}, 'r') AS has",
        { s: "x'y", n: 41, a: ['q', 'r'] },
      );
      assert.deepEqual(rows, [{ s: "x'y", n: 42, has: 1 }]);
    });
  });
}
