import type { Migration } from './types.ts';

/**
 * A large input is ingested in pieces, each with its own ledger row (see `PIECE_BYTES` in
 * src/sources/ocsf/ingest.ts); the number of a row's first line tells the input's first piece
 * from the rest, so that `vigil status` counts the input once. Rows written before are counted
 * as they were, one input each.
 */
export const ingestPieces: Migration = {
  version: 15,
  name: 'ingest pieces',
  statements: () => ['ALTER TABLE ingests ADD COLUMN first_line UInt64 DEFAULT 1'],
};
