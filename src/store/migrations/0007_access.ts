import type { Migration } from './types.ts';

/**
 * API access for `vigil serve`: bearer tokens with a role (viewer, analyst, admin). Only a SHA-256
 * of each token is stored, so the table leaks nothing usable; the token itself is shown once, when
 * it is created. Append-only like every workflow table: revoking a token appends a newer row for it
 * (`revoked = 1`), and the current state of a token is its row with the highest `version`.
 */
export const access: Migration = {
  version: 7,
  name: 'api tokens',
  statements: (d) => [
    `CREATE TABLE IF NOT EXISTS api_tokens (
      token_id String,
      version UInt64,
      name String,
      role ${d.lowCardinality('String')},
      token_sha256 String,
      created_at DateTime,
      created_by String,
      revoked UInt8
    ) ${d.sqlMergeTree({ orderBy: '(token_id, version)' })}`,
  ],
};
