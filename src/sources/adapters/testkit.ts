import assert from 'node:assert/strict';
import path from 'node:path';
import type { Workspace } from '../../store/index.ts';
import type { IngestCounts } from '../index.ts';

/** Test helpers shared by the adapter tests (not part of the adapters' door). */

export const fixture = (name: string) => path.join(import.meta.dirname, name);

export function reconciles(c: IngestCounts): void {
  assert.equal(
    c.read,
    c.stored + c.quarantined + c.duplicates,
    `counts do not reconcile: ${JSON.stringify(c)}`,
  );
}

export type Row = Record<string, unknown>;

/** Stored events of one input file, with the columns adapters set, ordered by position. */
export function storedEvents(ws: Workspace, file: string): Promise<Row[]> {
  return ws.engine.query<Row>(
    `SELECT event_id, toString(time) AS t, class_uid, activity_id, status_id, actor_uid, actor_type,
       token_id, key_id, token_created_ms, issuer, ${ws.engine.dialect.sqlIpToString('src_ip')} AS ip,
       http_method, url_path, user_agent, operation, request_id, subject_ids, subject_types,
       http_status, response_bytes, is_mfa, source_line, unmapped
     FROM events WHERE source_file = {f:String} ORDER BY source_line, time, event_id`,
    { f: file },
  );
}

/** Quarantined lines of one input file as [position, reason, detail]. */
export async function quarantined(ws: Workspace, file: string): Promise<[number, string, string][]> {
  const rows = await ws.engine.query<{ source_line: number; reason: string; detail: string }>(
    `SELECT source_line, reason, detail FROM quarantine WHERE source_file = {f:String}
     ORDER BY source_line, detail`,
    { f: file },
  );
  return rows.map((r) => [r.source_line, r.reason, r.detail]);
}
