import type { Dialect } from './dialect/index.ts';
import type { Engine, Params } from './engine.ts';

/**
 * The token ledger: for every batch written to `events`, the tokens its API calls carried that no
 * issuance (Authentication, activity 3) in the store explained when the batch was written, where
 * those calls came from, and how many events the batch stored (`unmatched_tokens`,
 * `unmatched_token_uses`, `token_batches`).
 *
 * A scope needs the tokens that were never issued at all. Without the ledger that is a GROUP BY of
 * every event by token (1.5 s of a 100 M-event scope); with it, the never-issued tokens are the
 * ledger's tokens that no issuance anywhere carries, which reads only the issuance rows and
 * probes them against a small set. Any superset of the unmatched tokens gives the same answer, so
 * the ledger may hold too many (an issuance that arrived later, a token used long after it was
 * issued, a copy's token that no event carries) but never too few: every batch that writes
 * events records its tokens, and a scope uses the ledger only when the batches account for every
 * stored event (`ledgerCovers`), else it groups as before (and rebuilds the ledger from that,
 * `resetLedger`). Where the unmatched tokens' calls came from lets the scope copy the rows at the
 * attacker's addresses in the same pass as the forged calls; an address missing there costs only
 * the second pass it would have taken anyway.
 *
 * It is written after a batch's insert, from the batch's own rows: 0.12 of 6.4 s for 2 M lines,
 * ~4 of ~150 CPU s for the simulator's 94 M-event store (a materialised view on `events` did
 * the same in every insert's thread and cost ingest a quarter of its speed, see migration 11).
 */

/**
 * Issuances this far before a batch's first event and after its last explain its tokens. Only the
 * ledger's size depends on it: a token issued earlier is listed, and the scope clears it.
 */
const LOOK_BACK = 'INTERVAL 25 HOUR';
const LOOK_AHEAD = 'INTERVAL 1 HOUR';

export interface TokenBatch {
  /** The batch's id (its ingest id). */
  id: string;
  /** A table or subquery holding the batch's rows, with `class_uid` and `token_id`. */
  rows: string;
  /** Parameters `rows` binds. */
  params?: Params;
  /** Events the batch stored. */
  events: number;
  /** First and last event time of the batch, as SQL DateTime64 text (UTC). */
  lo: string;
  hi: string;
}

/**
 * A batch listing at most this many unmatched tokens also records where their calls came from
 * (`unmatched_token_uses`), which lets a scope copy the rows at the attacker's addresses in the
 * same pass as the forged calls. More (a store without the login service's log, where every
 * token is unmatched) would cost the ingest a grouping and give the scope nothing it could use.
 */
const USES_MAX_TOKENS = 50_000;

/** An issuance in the store: what clears a token. */
const ISSUANCE = `class_uid = 3002 AND activity_id = 3 AND token_id != ''`;

/** Records the tokens of a batch just written to `events` that no issuance near it explains. */
export async function recordBatchTokens(engine: Engine, batch: TokenBatch): Promise<void> {
  const used = `_ledger_${batch.id.replace(/[^A-Za-z0-9]/g, '_')}`;
  const params = { ...batch.params, ledger_batch: batch.id, ledger_lo: batch.lo, ledger_hi: batch.hi };
  if (batch.events > 0) {
    await engine.exec(
      `CREATE TABLE ${used} ENGINE = Memory AS
       SELECT DISTINCT token_id FROM ${batch.rows} WHERE class_uid = 6003 AND token_id != ''`,
      params,
    );
    try {
      await engine.exec(
        `INSERT INTO unmatched_tokens (batch, token_id)
         SELECT {ledger_batch:String}, token_id FROM ${used}
         WHERE token_id NOT IN (
           SELECT token_id FROM events
           PREWHERE time >= {ledger_lo:DateTime64(3, 'UTC')} - ${LOOK_BACK}
             AND time <= {ledger_hi:DateTime64(3, 'UTC')} + ${LOOK_AHEAD}
             AND ${ISSUANCE} AND token_id IN ${used})`,
        params,
      );
      const [row] = await engine.query<{ n: number }>(
        'SELECT count() AS n FROM unmatched_tokens WHERE batch = {ledger_batch:String}',
        params,
      );
      const unmatched = Number(row?.n ?? 0);
      // Where their calls came from, read back from the stored events of the batch's range (any
      // other batch's call there with such a token carries it too, so it is just as true).
      if (unmatched > 0 && unmatched <= USES_MAX_TOKENS)
        await engine.exec(
          `INSERT INTO unmatched_token_uses (batch, token_id, src_ip, net_class, actors)
           SELECT {ledger_batch:String}, token_id, src_ip, anyIf(net_class, net_class != ''), groupUniqArray(actor_uid)
           FROM events
           PREWHERE time >= {ledger_lo:DateTime64(3, 'UTC')} AND time <= {ledger_hi:DateTime64(3, 'UTC')}
             AND class_uid = 6003
             AND token_id IN (SELECT token_id FROM unmatched_tokens WHERE batch = {ledger_batch:String})
           GROUP BY token_id, src_ip`,
          params,
        );
    } finally {
      await engine.exec(`DROP TABLE IF EXISTS ${used}`);
    }
  }
  await noteBatch(engine, batch.id, batch.events);
}

/**
 * Records a batch whose unmatched tokens are derived from another batch's (a copy of its rows
 * with renamed tokens): `tokens` is a SELECT of `token_id` over `unmatched_tokens` rows of
 * `from`, binding `params`. Where their calls came from is not recorded (a scope then finds those
 * addresses itself).
 */
export async function recordDerivedTokens(
  engine: Engine,
  batch: { id: string; events: number },
  tokens: string,
  params: Params = {},
): Promise<void> {
  await engine.exec(
    `INSERT INTO unmatched_tokens (batch, token_id) SELECT {ledger_batch:String}, token_id FROM (${tokens})`,
    { ...params, ledger_batch: batch.id },
  );
  await noteBatch(engine, batch.id, batch.events);
}

/** The batch's line: how many events it stored (its tokens are counted from `unmatched_tokens`). */
async function noteBatch(engine: Engine, id: string, events: number): Promise<void> {
  await engine.insert('token_batches', [{ batch: id, events, recorded_at: Math.floor(Date.now() / 1000) }]);
}

/**
 * Whether the ledger's batches account for every stored event (a store written in part by
 * something else, or by a version before the ledger, is not covered).
 */
export async function ledgerCovers(engine: Engine): Promise<boolean> {
  const [row] = await engine.query<{ events: number; recorded: number }>(
    `SELECT (SELECT count() FROM events) AS events, (SELECT sum(events) FROM token_batches) AS recorded`,
  );
  return Number(row?.events ?? 0) === Number(row?.recorded ?? 0);
}

/**
 * The tokens API calls carried that the login service never issued, as a SELECT of `token_id`
 * (when `ledgerCovers`): the ledger's tokens that no issuance in the store carries.
 */
export function neverIssuedFromLedgerSql(): string {
  return `SELECT DISTINCT token_id FROM unmatched_tokens
    WHERE token_id NOT IN (SELECT token_id FROM events
      PREWHERE ${ISSUANCE} AND token_id IN (SELECT token_id FROM unmatched_tokens))`;
}

/**
 * The same tokens without the ledger, as a SELECT of `token_id`: one GROUP BY over the tokens,
 * where a token whose smallest class is 6003 was never issued. The calls of one session sit
 * together in the sort order, so the grouping mostly meets a token it just saw; testing every call
 * against the (large) set of issued tokens instead took three times as long.
 */
export function neverIssuedByGroupingSql(): string {
  return `SELECT token_id FROM events
    PREWHERE token_id != '' AND (class_uid = 6003 OR (${ISSUANCE}))
    GROUP BY token_id HAVING min(class_uid) = 6003`;
}

/**
 * Replaces the ledger with one batch covering the whole store: `tokens` (a SELECT of `token_id`)
 * must be what `neverIssuedByGroupingSql` gave while the store held `events` events. A scope that
 * found the ledger short (a workspace from before it, events written around it) does this after
 * grouping every event, so that the next one reads the ledger.
 */
export async function resetLedger(engine: Engine, tokens: string, events: number): Promise<void> {
  for (const statement of TRUNCATE_LEDGER) await engine.exec(statement);
  await recordDerivedTokens(engine, { id: `catch-up-${Date.now()}`, events }, tokens);
}

/**
 * Where the calls with the tokens of the Set table `tokens` came from, as far as the ledger
 * recorded it: one row per address (`ip` as text), its network class and the accounts
 * seen there. Every row is true (an address such a call came from); the list may lack some.
 */
export function recordedUsesSql(tokens: string, d: Dialect): string {
  return `SELECT ${d.sqlIpToString('src_ip')} AS ip, anyIf(net_class, net_class != '') AS cls,
      groupUniqArrayArray(actors) AS actors
    FROM unmatched_token_uses WHERE token_id IN ${tokens} GROUP BY src_ip`;
}

/** Empties the ledger (with `events`). */
export const TRUNCATE_LEDGER = [
  'TRUNCATE TABLE unmatched_tokens',
  'TRUNCATE TABLE unmatched_token_uses',
  'TRUNCATE TABLE token_batches',
];
