/**
 * Baselines for the behavioural detectors: hourly and daily rollups refreshed explicitly from
 * `events` (no views: ingest pays nothing), own and peer figures from days before the judged one,
 * the site-wide tide, and the evidence a finding shows.
 */
import type { DetectContext, WindowRange } from '../detector.ts';
import { refreshBaselines } from './refresh.ts';

export { stopwatch } from './stopwatch.ts';

import { DAY_MS } from './time.ts';

export {
  ENTITY_KINDS,
  type EntityKind,
  type EntityKindName,
  type PerEntityQuery,
  STAFF,
  SUBJECTS,
  sqlEntityTuples,
  sqlPerEntity,
  sqlSubnetKey,
} from './entities.ts';
export { type Evidence, gatherEvidence, relatedOf, staffGroups, type Wanted } from './evidence.ts';
export {
  nextVersion,
  type RefreshOptions,
  type RefreshResult,
  refreshBaselines,
} from './refresh.ts';
export {
  type Candidate,
  type Figures,
  median,
  NONE,
  type OwnFigures,
  ownFigures,
  type PeerFigures,
  peerFigures,
  ratioScore,
  round,
  showFigures,
  siteTide,
} from './stats.ts';
export { addDays, DAY_MS, dayStartMs, HOUR_MS, hourPoints, localDay } from './time.ts';

/** Rollups complete for the range and the `historyDays` (plus a week for seven-day unions) before it. */
export async function prepareBaselines(
  ctx: DetectContext,
  range: WindowRange,
  historyDays: number,
): Promise<void> {
  await refreshBaselines(ctx.engine, {
    from: range.start.getTime() - (historyDays + 8) * DAY_MS,
    until: range.end.getTime(),
    tz: ctx.settings.timezone,
    categoriesSql: ctx.catalogSql.categories,
  });
}
