import type { Migration } from './types.ts';

/**
 * Versions 9 and 10 kept a per-token ledger (`token_uses`) by a materialised view on `events`, so
 * that a scope could read its forged tokens there instead of grouping every event. They were
 * withdrawn before release: the view runs in every insert's own thread, which took ingest of
 * 2 M lines from 282k to 207k events/s (and the simulator's copies +30% CPU) to save about a
 * second of a 100 M-event scope. This removes them from workspaces that applied them; elsewhere
 * it does nothing.
 */
export const dropTokenLedger: Migration = {
  version: 11,
  name: 'drop the token ledger',
  statements: () => ['DROP TABLE IF EXISTS token_uses_mv', 'DROP TABLE IF EXISTS token_uses'],
};
