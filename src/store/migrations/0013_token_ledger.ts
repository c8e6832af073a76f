import type { Migration } from './types.ts';

/**
 * The token ledger (`src/store/ledger.ts`): per batch written to `events`, the tokens its API calls
 * carried that no issuance near them explained (and where those calls came from), and how many
 * events the batch stored. A scope finds the never-issued tokens among these few instead of
 * grouping every event by token, when the batches account for every stored event.
 */
export const tokenLedger: Migration = {
  version: 13,
  name: 'token ledger',
  statements: (d) => [
    `CREATE TABLE IF NOT EXISTS unmatched_tokens (
      batch String,
      token_id String
    ) ${d.sqlMergeTree({ orderBy: '(token_id)' })}`,
    // Where the calls of an unmatched token came from, per batch (when it lists few tokens): the
    // addresses, their network class and the accounts seen there.
    `CREATE TABLE IF NOT EXISTS unmatched_token_uses (
      batch String,
      token_id String,
      src_ip ${d.ipType()},
      net_class ${d.lowCardinality('String')},
      actors Array(String)
    ) ${d.sqlMergeTree({ orderBy: '(token_id)' })}`,
    `CREATE TABLE IF NOT EXISTS token_batches (
      batch String,
      events UInt64,
      recorded_at DateTime
    ) ${d.sqlMergeTree({ orderBy: '(recorded_at, batch)' })}`,
  ],
};
