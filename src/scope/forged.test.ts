import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tempWorkspace } from '../store/testing.ts';
import { createForgedSet, dropForgedSetSql } from './sql.ts';

/** A row of `events` with the columns the forged set reads (the rest take their defaults). */
const row = (id: string, token: string, cls: number, activity: number) => ({
  event_id: id,
  time: '2025-06-01 00:00:00.000',
  class_uid: cls,
  activity_id: activity,
  token_id: token,
  src_ip: '203.0.113.7',
  ingested_at: 0,
});

async function forged(ws: Awaited<ReturnType<typeof tempWorkspace>>, all: string[]): Promise<string[]> {
  await createForgedSet(ws.engine, 'test_forged');
  const rows = await ws.engine.query<{ t: string }>(
    `SELECT t FROM (SELECT arrayJoin({all:Array(String)}) AS t) WHERE t IN test_forged ORDER BY t`,
    { all },
  );
  for (const s of dropForgedSetSql('test_forged')) await ws.engine.exec(s);
  return rows.map((r) => r.t);
}

test('forged tokens read from token_uses equal those grouped from events; events alone when it does not cover them', async () => {
  const ws = await tempWorkspace();
  try {
    const all = ['t-ok', 't-forged', 't-late', 't-logon', 't-early'];
    // Separate inserts: a token's call and its issue land in different rows of token_uses.
    await ws.engine.insert('events', [
      row('1', 't-ok', 3002, 3),
      row('2', 't-ok', 6003, 2),
      row('3', 't-forged', 6003, 2),
      row('4', 't-late', 6003, 2),
      row('5', 't-logon', 3002, 1),
      row('6', 't-logon', 6003, 2),
      row('7', '', 6003, 2),
      row('8', 't-early', 3002, 3),
    ]);
    await ws.engine.insert('events', [
      row('9', 't-late', 3002, 3),
      row('10', 't-forged', 6003, 2),
      row('11', 't-early', 6003, 2),
    ]);
    const [u] = await ws.engine.query<{ n: number; rows: number }>(
      'SELECT count() AS n, sum(rows) AS rows FROM token_uses',
    );
    assert.equal(u?.rows, 11);
    assert.ok((u?.n ?? 0) > 5, 'tokens of two inserts in separate rows');
    assert.deepEqual(await forged(ws, all), ['t-forged', 't-logon']);
    // No longer covering events (the view's table emptied): the set is grouped from events.
    await ws.engine.exec('TRUNCATE TABLE token_uses');
    assert.deepEqual(await forged(ws, all), ['t-forged', 't-logon']);
  } finally {
    await ws.dispose();
  }
});
