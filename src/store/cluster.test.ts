import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planClusterStatement } from './cluster.ts';

const plan = (sql: string) => planClusterStatement(sql, 'vigil', 'db', (t) => t === 'events');

test('a codec change goes to every shard local table only', () => {
  assert.deepEqual(plan("ALTER TABLE events MODIFY COLUMN time DateTime64(3, 'UTC') CODEC(Delta(8), LZ4)"), {
    kind: 'every-node',
    statements: ["ALTER TABLE events_local MODIFY COLUMN time DateTime64(3, 'UTC') CODEC(Delta(8), LZ4)"],
  });
});

test('a type change goes to the local tables and the Distributed table', () => {
  assert.deepEqual(plan('ALTER TABLE events MODIFY COLUMN asn UInt64'), {
    kind: 'every-node',
    statements: [
      'ALTER TABLE events_local MODIFY COLUMN asn UInt64',
      'ALTER TABLE events MODIFY COLUMN asn UInt64',
    ],
  });
});

test('other ALTERs are refused with what to do', () => {
  assert.throws(
    () => plan('ALTER TABLE events DROP COLUMN asn'),
    /run it on every server against <table>_local/,
  );
  assert.throws(() => plan('ALTER TABLE other MODIFY COLUMN x UInt8'), /not automated on a cluster/);
});
