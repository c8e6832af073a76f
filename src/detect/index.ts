/**
 * Detection: detectors judge event-time windows into findings; the incident stage groups findings
 * into incidents. This is the stage's door; other stages (scope, eval, the server) import only it.
 *
 * - `runDetection(ws, opts)` / `advance(ws, {until})`: judge the windows that are complete, from the
 *   checkpoints on (replay, live and retro-hunt are the same call).
 * - `listIncidents(engine)`, `getIncident(engine, id)`: incidents as `vigil incidents --json` prints
 *   them (spec/interface.md).
 * - `listFindings(engine, {incident?, detector?, entity?, since?, until?})`: current findings.
 */

export { type Checkpoint, loadCheckpoints } from './checkpoints.ts';
export type {
  DetectContext,
  Detector,
  DetectorMeta,
  EntityRef,
  EntityType,
  Finding,
  Severity,
  WindowRange,
} from './detector.ts';
export { type FindingQuery, findingId, listFindings, type StoredFinding } from './findings.ts';
export {
  CLOSED_STATUSES,
  getIncident,
  type Incident,
  type IncidentFinding,
  type IncidentListOptions,
  incidentFamily,
  listIncidents,
} from './incident-store.ts';
export { INCIDENT_DEFAULTS, type IncidentParams, incidentParams } from './incidents.ts';
export { detectorById, detectors } from './registry.ts';
export {
  advance,
  RUNNER_DEFAULTS,
  type RunnerParams,
  type RunOptions,
  type RunProgress,
  type RunSummary,
  runDetection,
  runnerParams,
} from './runner.ts';
