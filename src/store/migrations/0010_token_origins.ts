import { tokenLedgerSelect, tokenLedgerViewSql } from '../token-ledger.ts';
import type { Migration } from './types.ts';

/**
 * `token_uses` (migration 9) with, per token, where one of its API calls came from: an address,
 * its network class and the account. Only a hint, never an answer: the scope takes the addresses
 * of the forged tokens' calls from it to copy the rows at those addresses in the same pass over
 * `events` as the forged calls (instead of a pass of its own once the calls are copied); what the
 * copied rows then show is checked, and an address the hint missed is fetched as before. A token
 * used from several addresses keeps one of them (a merge of its rows keeps any one; the summed
 * counters stay exact).
 *
 * Recreated and filled again from `events` (a table change on a cluster is not automated; the
 * view and table are dropped and made again on every server).
 */
export const tokenOrigins: Migration = {
  version: 10,
  name: 'token uses with an origin',
  statements: (d) => [
    'DROP TABLE IF EXISTS token_uses_mv',
    'DROP TABLE IF EXISTS token_uses',
    `CREATE TABLE token_uses (
      token_id String,
      src_ip ${d.ipType()},
      actor_uid String,
      net_class ${d.lowCardinality('String')},
      calls UInt64,
      issues UInt64,
      rows UInt64
    ) ${d.sqlMergeTree({ engine: 'SummingMergeTree((calls, issues, rows))', orderBy: 'token_id' })}`,
    tokenLedgerViewSql(),
    `INSERT INTO token_uses ${tokenLedgerSelect()}`,
  ],
};
