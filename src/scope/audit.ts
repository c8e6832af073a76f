import os from 'node:os';
import type { Engine } from '../store/index.ts';
import { sqlIso, sqlTime } from './sql.ts';

/**
 * The audit trail of the most sensitive list Vigil holds. Append-only: this module offers no
 * update or delete, and nothing else writes `audit_log`. Entries carry counts and destinations,
 * never subject ids.
 */
export interface AuditEntry {
  /** OS user or the server token's name; defaults to the OS user. */
  who?: string;
  /** Accepted as a synonym of `who` (the server's name for it). */
  actor?: string;
  role?: string;
  /** e.g. scope.compute, scope.export, scope.subjects */
  action: string;
  incident: string;
  rows: number;
  /** Where subject rows went: a file path, "http", or "" when nothing left the engine. */
  target?: string;
  detail?: string;
}

export interface AuditRecord {
  at: string;
  who: string;
  /** Same as `who`. */
  actor: string;
  role: string;
  action: string;
  incident: string;
  rows: number;
  target: string;
  detail: string;
}

/** The OS user running this process, for entries made from the CLI. */
export function currentUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

export async function recordAudit(engine: Engine, entry: AuditEntry): Promise<void> {
  await engine.insert('audit_log', [
    {
      at: sqlTime(Date.now()),
      who: entry.who ?? entry.actor ?? currentUser(),
      role: entry.role ?? '',
      action: entry.action,
      incident: entry.incident,
      rows: entry.rows,
      target: entry.target ?? '',
      detail: entry.detail ?? '',
    },
  ]);
}

/** Entries oldest first (optionally only one incident's, or the newest `limit`). */
export async function listAudit(
  engine: Engine,
  opts: { incident?: string; limit?: number } = {},
): Promise<AuditRecord[]> {
  const where = opts.incident ? 'WHERE incident = {incident:String}' : '';
  const params = {
    ...(opts.incident ? { incident: opts.incident } : {}),
    limit: opts.limit ?? 1_000_000,
  };
  const rows = await engine.query<Omit<AuditRecord, 'actor'>>(
    `SELECT * FROM (
       SELECT ${sqlIso('audit_log.at')} AS at, who, role, action, incident, rows, target, detail
       FROM audit_log ${where} ORDER BY audit_log.at DESC LIMIT {limit:UInt64}
     ) ORDER BY at`,
    params,
  );
  return rows.map((r) => ({ ...r, actor: r.who }));
}
