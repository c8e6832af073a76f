import { randomUUID } from 'node:crypto';
import type { SiteSettings } from '../sources/reference/index.ts';
import type { Workspace } from '../store/index.ts';
import { type Checkpoint, fingerprint, loadCheckpoints, saveCheckpoints } from './checkpoints.ts';
import { detectContext, loadReference } from './context.ts';
import type { DetectContext, Detector, DetectorMeta } from './detector.ts';
import { saveFindings } from './findings.ts';
import { IncidentGrouper } from './incidents.ts';
import { detectors as registered } from './registry.ts';
import { alignDown, isoTime, parseSqlTime, sqlTime } from './sql.ts';

/**
 * The runner judges event-time windows in order, exactly as live operation would, and serves three
 * uses with one code path: live (`advance` as event time moves), replay of history, and a
 * retro-hunt when a detector is added or changed (its checkpoint is missing or its fingerprint
 * differs, so it alone replays from the start).
 *
 * A window is judged only once it is complete: its end plus the detector's lookahead plus a settle
 * margin must be at or before the newest event time. Replays hand each detector a chunk of many
 * windows per call (a day by default) so the engine answers them in one grouped query while memory
 * stays bounded. Every chunk's findings are saved before its checkpoint moves, so a crash repeats
 * at most a chunk, and repeating is harmless: findings are keyed by (detector, entity, window).
 *
 * Late events (ingested after the last run, older than a checkpoint but within the allowance)
 * make the runner judge their windows again; a finding whose content changed gets a new version.
 */

export interface RunnerParams {
  window_seconds: number;
  /** Wait this long past a window's end (event time) before judging it. */
  settle_seconds: number;
  /** Late events up to this far behind a checkpoint are judged again; older ones are reported. */
  late_allowance_seconds: number;
  /** Event time handed to a detector per call in a replay. */
  chunk_seconds: number;
}

export const RUNNER_DEFAULTS: RunnerParams = {
  window_seconds: 300,
  settle_seconds: 60,
  late_allowance_seconds: 3600,
  chunk_seconds: 86_400,
};

export function runnerParams(settings: SiteSettings): RunnerParams {
  return { ...RUNNER_DEFAULTS, ...((settings.detection?.runner ?? {}) as Partial<RunnerParams>) };
}

export interface RunOptions {
  /** Do not judge windows before this event time (first run, or a detector replaying). */
  since?: Date;
  /** Do not judge windows ending after this event time. */
  until?: Date;
  windowSeconds?: number;
  chunkSeconds?: number;
  /** Only these detector ids (default: all registered). */
  detectors?: readonly string[];
  /** Detectors to run instead of the registry (tests, experiments). */
  registry?: readonly Detector[];
  onProgress?: (p: RunProgress) => void;
}

export interface RunProgress {
  windows: number;
  windowsPerSecond: number;
  /** End of the last window judged (ISO), the event time reached. */
  eventTime: string;
  seconds: number;
}

export interface RunSummary {
  windows: number;
  late_windows: number;
  findings_new: number;
  findings_updated: number;
  incidents_new: number;
  incidents_updated: number;
  /** Per detector: where it started, where it stopped, and whether it replayed from the start. */
  detectors: { id: string; from: string | null; to: string | null; replayed: boolean; findings: number }[];
  /** End of the last window judged by every detector (ISO), or null when nothing could be judged. */
  event_time_reached: string | null;
  seconds: number;
}

interface Plan {
  detector: Detector;
  ctx: DetectContext;
  fingerprint: string;
  /** Next window start to judge (epoch ms). */
  at: number;
  /** Judge up to here (epoch ms, window-aligned). */
  horizon: number;
  from: number;
  replayed: boolean;
  findings: number;
  lateFrom: number | null;
}

/** Runs detection up to the newest complete window (or `until`), continuing from the checkpoints. */
export async function runDetection(ws: Workspace, opts: RunOptions = {}): Promise<RunSummary> {
  const started = Date.now();
  const engine = ws.engine;
  const ref = await loadReference(engine);
  const rp = runnerParams(ref.settings);
  const w = opts.windowSeconds ?? rp.window_seconds;
  const chunk = Math.max(1, Math.floor((opts.chunkSeconds ?? rp.chunk_seconds) / w)) * w * 1000;
  const pool = (opts.registry ?? registered).filter(
    (d) => !opts.detectors || opts.detectors.includes(d.meta.id),
  );
  const runId = randomUUID();
  const summary: RunSummary = {
    windows: 0,
    late_windows: 0,
    findings_new: 0,
    findings_updated: 0,
    incidents_new: 0,
    incidents_updated: 0,
    detectors: [],
    event_time_reached: null,
    seconds: 0,
  };
  const [bounds] = await engine.query<{ first: string; last: string; ingested: string; n: number }>(
    'SELECT min(time) AS first, max(time) AS last, max(ingested_at) AS ingested, count() AS n FROM events',
  );
  if (!bounds || Number(bounds.n) === 0) return { ...summary, seconds: (Date.now() - started) / 1000 };
  const first = parseSqlTime(bounds.first).getTime();
  const last = parseSqlTime(bounds.last).getTime();
  const checkpoints = await loadCheckpoints(engine);
  const metas = new Map<string, DetectorMeta>(registered.map((d) => [d.meta.id, d.meta]));
  for (const d of pool) metas.set(d.meta.id, d.meta);
  const grouper = new IncidentGrouper(engine, ref.settings, metas);

  const plans: Plan[] = [];
  for (const detector of pool) {
    const ctx = detectContext(engine, detector, ref);
    const fp = fingerprint(detector, ctx.params, w);
    const lookahead = (detector.lookaheadSeconds?.(ctx.params) ?? 0) * 1000;
    let horizon = alignDown(last - rp.settle_seconds * 1000 - lookahead, w);
    if (opts.until) horizon = Math.min(horizon, alignDown(opts.until.getTime(), w));
    const cp = checkpoints.get(detector.meta.id);
    const fresh = !cp || cp.fingerprint !== fp;
    const since = opts.since ? alignDown(opts.since.getTime(), w) : null;
    let at = fresh ? (since ?? alignDown(first, w)) : Math.max(cp.at.getTime(), since ?? 0);
    if (!fresh && since !== null && since > cp.at.getTime()) at = since;
    plans.push({
      detector,
      ctx,
      fingerprint: fp,
      at,
      horizon,
      from: at,
      replayed: fresh,
      findings: 0,
      lateFrom: null,
    });
    if (!fresh) {
      const late = await lateStart(ws, cp, rp.late_allowance_seconds * 1000, w);
      if (late !== null && late < cp.at.getTime()) plans[plans.length - 1].lateFrom = late;
    }
  }

  const save = async (plan: Plan, from: number, to: number) => {
    const found = await plan.detector.evaluate(plan.ctx, {
      start: new Date(from),
      end: new Date(to),
      windowSeconds: w,
    });
    const saved = await saveFindings(engine, found, runId);
    summary.findings_new += saved.created;
    summary.findings_updated += saved.updated;
    plan.findings += saved.changed.length;
    return saved.changed;
  };
  const group = async (changed: Parameters<IncidentGrouper['add']>[0]) => {
    const g = await grouper.add(changed);
    summary.incidents_new += g.created;
    summary.incidents_updated += g.updated;
  };
  const watermark = bounds.ingested;
  const checkpointOf = (p: Plan, at: number): Checkpoint => ({
    detector: p.detector.meta.id,
    fingerprint: p.fingerprint,
    windowSeconds: w,
    at: new Date(at),
    ingestWatermark: watermark,
  });

  // Late events first: their windows are judged again, in order, before time moves on.
  for (const p of plans) {
    if (p.lateFrom === null) continue;
    const end = Math.min(p.at, p.horizon);
    if (p.lateFrom >= end) continue;
    summary.late_windows += (end - p.lateFrom) / (w * 1000);
    await group(await save(p, p.lateFrom, end));
  }

  let windows = 0;
  for (;;) {
    const behind = plans.filter((p) => p.at < p.horizon);
    if (behind.length === 0) break;
    const lo = Math.min(...behind.map((p) => p.at));
    const batch = behind.filter((p) => p.at === lo);
    // Stop where a lagging detector catches up with the others, so they run together from there.
    const others = plans.filter((p) => p.at > lo).map((p) => p.at);
    const hi = Math.min(lo + chunk, ...batch.map((p) => p.horizon), ...others);
    const changed = [];
    for (const p of batch) changed.push(...(await save(p, lo, hi)));
    await group(changed);
    for (const p of batch) p.at = hi;
    await saveCheckpoints(
      engine,
      batch.map((p) => checkpointOf(p, hi)),
    );
    windows += (hi - lo) / (w * 1000);
    const seconds = (Date.now() - started) / 1000;
    opts.onProgress?.({
      windows,
      windowsPerSecond: windows / Math.max(seconds, 0.001),
      eventTime: isoTime(new Date(hi)),
      seconds,
    });
  }
  // Detectors that had nothing new still record the watermark, so late events are not seen twice.
  const idle = plans.filter(
    (p) => p.from === p.at && (p.lateFrom !== null || !checkpoints.has(p.detector.meta.id)),
  );
  if (idle.length > 0)
    await saveCheckpoints(
      engine,
      idle.map((p) => checkpointOf(p, p.at)),
    );

  summary.windows = windows;
  const reached = Math.min(...plans.map((p) => p.at));
  summary.event_time_reached =
    plans.length > 0 && Number.isFinite(reached) ? isoTime(new Date(reached)) : null;
  summary.detectors = plans.map((p) => ({
    id: p.detector.meta.id,
    from: p.at > p.from ? isoTime(new Date(p.from)) : null,
    to: p.at > p.from ? isoTime(new Date(p.at)) : null,
    replayed: p.replayed && p.at > p.from,
    findings: p.findings,
  }));
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}

/**
 * Start of the earliest window holding events ingested since the checkpoint's run that fall before
 * it and within the allowance; null when there are none.
 */
async function lateStart(
  ws: Workspace,
  cp: Checkpoint,
  allowanceMs: number,
  w: number,
): Promise<number | null> {
  const [row] = await ws.engine.query<{ first: string; n: number }>(
    `SELECT min(time) AS first, count() AS n FROM events
     WHERE time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')}
       AND ingested_at >= {watermark:DateTime}`,
    {
      from: sqlTime(new Date(cp.at.getTime() - allowanceMs)),
      to: sqlTime(cp.at),
      watermark: cp.ingestWatermark,
    },
  );
  if (!row || Number(row.n) === 0) return null;
  return alignDown(parseSqlTime(row.first).getTime(), w);
}

/**
 * Live operation: judge every window that has become complete up to `until` (default: as far as
 * the data allows). A server calls this as events arrive; it is `runDetection` with a bound.
 */
export async function advance(ws: Workspace, opts: { until?: Date } = {}): Promise<RunSummary> {
  return runDetection(ws, opts.until ? { until: opts.until } : {});
}
