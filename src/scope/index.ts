/**
 * Scoping: who an incident exposed, with which categories of data, when, and how surely; the
 * exports of that list; and the audit trail of every computation, export and read of it.
 */

export type { AuditEntry, AuditRecord } from './audit.ts';
export { currentUser, listAudit, recordAudit } from './audit.ts';
export type { ExportResult } from './export.ts';
export { exportExposure, exposureRows, formatOf, writeExposureFile } from './export.ts';
export { latestScope, scopeIncident } from './scope.ts';
export type {
  Confidence,
  DayExposure,
  ExpansionStep,
  ExportFormat,
  Exposure,
  NotExposedEvidence,
  OperationExposure,
  OriginExposure,
  ScopeEntity,
  ScopeIncident,
  ScopeOptions,
  ScopeSummary,
} from './types.ts';
export { EXPOSURE_COLUMNS } from './types.ts';
