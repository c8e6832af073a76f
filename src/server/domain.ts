/**
 * The server's one door to detection and scoping. Every call the server makes into `detect/` and
 * `scope/` goes through here, so routes depend on the few shapes below, and a change in those
 * stages is a change in this file only.
 */
import {
  advance as advanceDetection,
  getIncident as getDetectedIncident,
  type Incident,
  type IncidentFinding,
  listIncidents as listDetectedIncidents,
  runDetection,
  runnerParams,
} from '../detect/index.ts';
import {
  type AuditRecord,
  EXPOSURE_COLUMNS,
  type Exposure,
  latestScope,
  listAudit as listScopeAudit,
  recordAudit as recordScopeAudit,
  type ScopeSummary,
  exposureRows as scopeExposureRows,
  scopeIncident,
} from '../scope/index.ts';
import { currentSettings } from '../sources/reference/index.ts';
import type { Engine, Workspace } from '../store/index.ts';

export type { EntityRef } from '../detect/index.ts';
export type { AuditRecord, Exposure, Incident, IncidentFinding, ScopeSummary };

/** A read of subject-level exposure by a token holder, for the audit table. */
export interface AuditEntry {
  /** The reader: token name and id (never the token). */
  actor: string;
  role: string;
  action: 'scope.subjects' | 'scope.export';
  incident: string;
  rows: number;
  detail: string;
}

/** Who asks for a scope computation (scoping audits its computations itself). */
export interface Asker {
  who: string;
  role: string;
}

export interface DetectionRun {
  /** End of the last window every detector has judged (ISO), or null. */
  reached: string | null;
  windows: number;
  incidents_new: number;
  incidents_updated: number;
}

/** What the server needs of detection and scoping. */
export interface Domain {
  listIncidents(engine: Engine): Promise<Incident[]>;
  getIncident(engine: Engine, id: string): Promise<Incident | null>;
  /** Judges every complete window up to `until` (default: as far as the data allows). Idempotent. */
  advance(ws: Workspace, opts: { until?: Date; windowSeconds?: number }): Promise<DetectionRun>;
  /** Detection's timing: the window and how long after a window's end it waits for stragglers. */
  detectionTiming(engine: Engine): Promise<{ windowSeconds: number; settleSeconds: number }>;
  /** The scope for the incident's current evidence (computed, or reused when nothing changed). */
  scopeSummary(ws: Workspace, incident: Incident, asker: Asker): Promise<ScopeSummary>;
  /** The newest stored scope, without computing (null when never scoped). */
  storedScope(engine: Engine, incidentId: string): Promise<ScopeSummary | null>;
  exposureRows(ws: Workspace, incident: Incident, limit: number): Promise<Exposure[]>;
  /** The whole exposure as bytes in `format`, page by page from the engine. */
  exportExposure(
    ws: Workspace,
    incident: Incident,
    format: 'csv' | 'jsonl',
    asker: Asker,
  ): AsyncIterable<Uint8Array>;
  recordAudit(engine: Engine, entry: AuditEntry): Promise<void>;
  listAudit(engine: Engine, opts?: { limit?: number }): Promise<AuditRecord[]>;
}

export const domain: Domain = {
  listIncidents: (engine) => listDetectedIncidents(engine, { findingsLimit: 0 }),
  getIncident: (engine, id) => getDetectedIncident(engine, id),
  async advance(ws, opts) {
    const s =
      opts.windowSeconds !== undefined
        ? await runDetection(ws, {
            windowSeconds: opts.windowSeconds,
            ...(opts.until ? { until: opts.until } : {}),
          })
        : await advanceDetection(ws, opts.until ? { until: opts.until } : {});
    return {
      reached: s.event_time_reached,
      windows: s.windows,
      incidents_new: s.incidents_new,
      incidents_updated: s.incidents_updated,
    };
  },
  async detectionTiming(engine) {
    const p = runnerParams(await currentSettings(engine));
    return { windowSeconds: p.window_seconds, settleSeconds: p.settle_seconds };
  },
  scopeSummary: (ws, incident, asker) => scopeIncident(ws, incident, { who: asker.who, role: asker.role }),
  storedScope: (engine, id) => latestScope(engine, id),
  exposureRows: (ws, incident, limit) => scopeExposureRows(ws, incident, { limit }),
  exportExposure: exportPaged,
  recordAudit: (engine, e) =>
    recordScopeAudit(engine, {
      actor: e.actor,
      role: e.role,
      action: e.action,
      incident: e.incident,
      rows: e.rows,
      target: 'http',
      detail: e.detail,
    }),
  listAudit: (engine, opts = {}) => listScopeAudit(engine, { limit: opts.limit ?? 500 }),
};

/** Rows per page of an export: one query each, a few MB of text. */
const EXPORT_PAGE = 50_000;

const csvCell = (v: unknown): string =>
  typeof v === 'number' ? String(v) : `"${String(v ?? '').replace(/"/g, '""')}"`;

/**
 * The export, as `vigil scope --out` writes it (same columns; CSV with a header and `;`-joined
 * categories), read in pages of one computation. Not chDB's streaming query: a chDB session serves
 * one stream at a time and any other query meanwhile ends it ("No active streaming query"), and a
 * server always has other queries in flight.
 */
async function* exportPaged(
  ws: Workspace,
  incident: Incident,
  format: 'csv' | 'jsonl',
  asker: Asker,
): AsyncIterable<Uint8Array> {
  const { computation_id } = await scopeIncident(ws, incident, { who: asker.who, role: asker.role });
  const columns = EXPOSURE_COLUMNS;
  if (format === 'csv') yield Buffer.from(`${columns.map(csvCell).join(',')}\n`);
  for (let offset = 0; ; offset += EXPORT_PAGE) {
    const rows = await scopeExposureRows(ws, incident, {
      limit: EXPORT_PAGE,
      offset,
      computation: computation_id,
    });
    if (rows.length === 0) return;
    const text =
      format === 'jsonl'
        ? rows.map((r) => JSON.stringify(Object.fromEntries(columns.map((c) => [c, r[c]])))).join('\n')
        : rows
            .map((r) =>
              columns.map((c) => csvCell(c === 'categories' ? r.categories.join(';') : r[c])).join(','),
            )
            .join('\n');
    yield Buffer.from(`${text}\n`);
    if (rows.length < EXPORT_PAGE) return;
  }
}
