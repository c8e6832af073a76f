import type { Migration } from './types.ts';

/**
 * Versions 9 and 10 kept a per-token ledger (`token_uses`) by a materialised view on `events`, so
 * that a scope could read its forged tokens there instead of grouping every event. They were
 * withdrawn before release: the view runs in every insert's own thread, which took ingest of
 * 2 M lines from 282k to 207k events/s (and the simulator's copies +30% CPU), and a 100 M-event
 * scope was no faster for it on a quiet machine (12.1-12.7 s with it, 11.7-11.8 s without; see
 * bench/scope.bench.ts). This removes them from workspaces that applied them; elsewhere it does
 * nothing.
 */
export const dropTokenLedger: Migration = {
  version: 11,
  name: 'drop the token ledger',
  statements: () => ['DROP TABLE IF EXISTS token_uses_mv', 'DROP TABLE IF EXISTS token_uses'],
};
