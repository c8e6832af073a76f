/** The store's door: the engine interface, the dialects, and workspaces. */

export { Dialect, ModernDialect } from './dialect/index.ts';
export type { Engine, InsertFormat, Params, Row } from './engine.ts';
export type { TokenBatch } from './ledger.ts';
export {
  ledgerCovers,
  neverIssuedByGroupingSql,
  neverIssuedFromLedgerSql,
  recordBatchTokens,
  recordDerivedTokens,
  recordedUsesSql,
  resetLedger,
  TRUNCATE_LEDGER,
} from './ledger.ts';
export type { Holder, OpenOptions, Workspace } from './workspace.ts';
export { openWorkspace, readHolder, updateHolder, withWorkspace } from './workspace.ts';
