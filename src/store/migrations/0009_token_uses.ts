import type { Migration } from './types.ts';

/** One row per token of the `events` rows read: the columns of `token_uses`. */
const TOKEN_USES_SELECT = `SELECT token_id, countIf(class_uid = 6003) AS calls,
  countIf(class_uid = 3002 AND activity_id = 3) AS issues, count() AS rows
  FROM events GROUP BY token_id`;

/**
 * What each token did, kept as events arrive: per token, how many API calls (class 6003) carried
 * it, how many times the login service issued it (Authentication 3002, activity 3) and how many
 * `events` rows it is on (every row, any class; `''` for rows without a token). The scope's set of
 * forged tokens (called, never issued) is read from here instead of grouping every event
 * (`src/scope/sql.ts`). A materialised view fills it on every insert into `events`, one row per
 * token per inserted block; SummingMergeTree folds a token's rows together as parts merge, so
 * readers sum per token.
 *
 * `sum(rows) = count() of events` says it covers exactly what `events` holds: a reader that finds
 * otherwise (events truncated or dropped, rows inserted around the view) uses `events` itself.
 * Plain counters and SummingMergeTree, so the same statements run on ClickHouse 18.16 (no
 * SimpleAggregateFunction there). Existing stores are filled here, once, from their events.
 */
export const tokenUses: Migration = {
  version: 9,
  name: 'token uses',
  statements: (d) => [
    // Dropped first so that a run that stopped half-way starts over instead of counting twice.
    'DROP TABLE IF EXISTS token_uses_mv',
    'DROP TABLE IF EXISTS token_uses',
    `CREATE TABLE token_uses (
      token_id String,
      calls UInt64,
      issues UInt64,
      rows UInt64
    ) ${d.sqlMergeTree({ engine: 'SummingMergeTree', orderBy: 'token_id' })}`,
    `CREATE MATERIALIZED VIEW token_uses_mv TO token_uses AS ${TOKEN_USES_SELECT}`,
    `INSERT INTO token_uses ${TOKEN_USES_SELECT}`,
  ],
};
