import type { Engine } from './engine.ts';

/**
 * The token ledger: `token_uses` (migrations 9 and 10), one row per token and inserted block of
 * `events` (API calls, issuances, rows, and one call's address, class and account as a hint),
 * summed per token by readers. A materialised view keeps it as events arrive.
 *
 * A bulk loader that knows a cheaper way to the same rows (the simulator's shard copies: their
 * tokens are the base's, renamed) pauses the view, inserts them itself, and resumes it. While the
 * view is paused, rows inserted by anyone else leave the ledger short; readers compare its row
 * total with `events` and then do without it, so a pause costs speed, never an answer.
 */
export const TOKEN_LEDGER_VIEW = 'token_uses_mv';

/** The ledger's rows for the `events` rows meeting `where` (an SQL condition). */
export function tokenLedgerSelect(where = ''): string {
  // The condition is applied in a subquery: the aggregates' aliases are the columns' names.
  const from = where
    ? `(SELECT token_id, src_ip, actor_uid, net_class, class_uid, activity_id FROM events WHERE ${where})`
    : 'events';
  return `SELECT token_id,
  anyIf(src_ip, class_uid = 6003) AS src_ip, anyIf(actor_uid, class_uid = 6003) AS actor_uid,
  anyIf(net_class, class_uid = 6003) AS net_class,
  countIf(class_uid = 6003) AS calls, countIf(class_uid = 3002 AND activity_id = 3) AS issues, count() AS rows
  FROM ${from} GROUP BY token_id`;
}

export function tokenLedgerViewSql(ifNotExists = false): string {
  return `CREATE MATERIALIZED VIEW ${ifNotExists ? 'IF NOT EXISTS ' : ''}${TOKEN_LEDGER_VIEW} TO token_uses AS ${tokenLedgerSelect()}`;
}

/** Stops the view (see above); `resumeTokenLedger` restarts it. */
export async function pauseTokenLedger(engine: Engine): Promise<void> {
  await engine.exec(`DROP TABLE IF EXISTS ${TOKEN_LEDGER_VIEW}`);
}

export async function resumeTokenLedger(engine: Engine): Promise<void> {
  await engine.exec(tokenLedgerViewSql(true));
}
