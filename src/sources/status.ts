import fs from 'node:fs';
import path from 'node:path';
import type { Workspace } from '../store/index.ts';
import { catalogSql, currentCatalog, sqlNormalizedPath } from './reference/index.ts';

export interface WorkspaceStatus {
  workspace: string;
  engine: string;
  events: { total: number; first: string | null; last: string | null };
  events_per_day: { day: string; api_activity: number; authentication: number }[];
  sources: { source: string; events: number }[];
  ingests: {
    inputs: number;
    read: number;
    stored: number;
    quarantined: number;
    duplicates: number;
    last_at: string | null;
  };
  quarantine: { total: number; by_reason: Record<string, number> };
  reference: { kind: string; rows: number; loaded_at: string; file: string }[];
  catalog_gaps: { operation: string; events: number; first_seen: string; last_seen: string }[];
  size_bytes: number;
}

function dirSize(dir: string): number {
  let total = 0;
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) total += fs.statSync(p).size;
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return total;
}

/** What is in the workspace and how healthy it is; every figure comes from the store itself. */
export async function workspaceStatus(ws: Workspace): Promise<WorkspaceStatus> {
  const e = ws.engine;
  const [totals] = await e.query<{ n: number; first: string; last: string }>(
    'SELECT count() AS n, toString(min(time)) AS first, toString(max(time)) AS last FROM events',
  );
  const perDay = await e.query<{ day: string; api_activity: number; authentication: number }>(
    `SELECT toString(toDate(time)) AS day, countIf(class_uid = 6003) AS api_activity, countIf(class_uid = 3002) AS authentication
     FROM events GROUP BY day ORDER BY day`,
  );
  const sources = await e.query<{ source: string; events: number }>(
    'SELECT source_file AS source, count() AS events FROM events GROUP BY source ORDER BY source',
  );
  const [ingests] = await e.query<WorkspaceStatus['ingests'] & { last_at: string }>(
    `SELECT countIf(first_line = 1) AS inputs, sum(read) AS read, sum(stored) AS stored, sum(quarantined) AS quarantined,
       sum(duplicates) AS duplicates, toString(max(started_at)) AS last_at FROM ingests`,
  );
  const reasons = await e.query<{ reason: string; n: number }>(
    'SELECT reason, count() AS n FROM quarantine GROUP BY reason ORDER BY reason',
  );
  const reference = await e.query<WorkspaceStatus['reference'][number]>(
    `SELECT kind, argMax(rows, load_seq) AS rows, toString(max(loaded_at)) AS loaded_at, argMax(source_file, load_seq) AS file
     FROM reference_loads GROUP BY kind ORDER BY kind`,
  );
  const catalog = await currentCatalog(e);
  const c = catalogSql(catalog, e.dialect);
  const gaps = await e.query<WorkspaceStatus['catalog_gaps'][number]>(
    `SELECT if(${c.operation} != '', ${c.operation}, ${sqlNormalizedPath('http_method', 'url_path')}) AS operation,
       count() AS events, toString(min(time)) AS first_seen, toString(max(time)) AS last_seen
     FROM events WHERE class_uid = 6003 AND NOT ${c.known}
     GROUP BY operation ORDER BY events DESC LIMIT 100`,
  );
  const total = totals?.n ?? 0;
  return {
    workspace: ws.home,
    engine: `${ws.engine.kind} (${ws.engine.location})`,
    events: {
      total,
      first: total ? (totals?.first ?? null) : null,
      last: total ? (totals?.last ?? null) : null,
    },
    events_per_day: perDay,
    sources,
    ingests: {
      inputs: ingests?.inputs ?? 0,
      read: ingests?.read ?? 0,
      stored: ingests?.stored ?? 0,
      quarantined: ingests?.quarantined ?? 0,
      duplicates: ingests?.duplicates ?? 0,
      last_at: ingests?.inputs ? ingests.last_at : null,
    },
    quarantine: {
      total: reasons.reduce((n, r) => n + r.n, 0),
      by_reason: Object.fromEntries(reasons.map((r) => [r.reason, r.n])),
    },
    reference,
    catalog_gaps: gaps,
    size_bytes: ws.engine.kind === 'embedded' ? dirSize(ws.home) : 0,
  };
}
