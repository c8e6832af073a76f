import path from 'node:path';
import type { Engine } from '../store/index.ts';
import type { LiveStats } from './live.ts';

/** Is data arriving, is it readable, and is detection keeping up? */
export interface DataHealth {
  now: string;
  events: { total: number; newest: string | null; newest_ingested_at: string | null };
  /** Wall-clock seconds between now and the newest event time (large for replayed data). */
  event_lag_seconds: number | null;
  /** Events stored per minute over the last hour of wall time, from the ingest ledger. */
  per_minute: { minute: string; stored: number; quarantined: number }[];
  /** Events per second over the ledger's last hour. */
  rate_per_s: number;
  recent_ingests: {
    at: string;
    source: string;
    read: number;
    stored: number;
    quarantined: number;
    duplicates: number;
    seconds: number;
  }[];
  quarantine: { total: number; by_reason: Record<string, number> };
  detection: {
    window_seconds: number;
    last_window_end: string | null;
    watermark: string | null;
    lag_windows: number;
    runs: number;
    last_run_seconds: number | null;
    error: string | null;
  };
  live: LiveStats;
}

export async function dataHealth(
  engine: Engine,
  live: LiveStats,
  windowSeconds: number,
): Promise<DataHealth> {
  const [totals, perMinute, recent, reasons] = await Promise.all([
    engine.query<{ n: number; newest: string; ingested: string; lag: number }>(
      `SELECT (SELECT count() FROM events) AS n, (SELECT toString(max(time)) FROM events) AS newest,
         (SELECT toString(max(started_at)) FROM ingests) AS ingested,
         (SELECT dateDiff('second', max(time), now64(3, 'UTC')) FROM events) AS lag`,
    ),
    engine.query<{ minute: string; stored: number; quarantined: number }>(
      `SELECT toString(toStartOfMinute(started_at)) AS minute, sum(stored) AS stored, sum(quarantined) AS quarantined
       FROM ingests WHERE started_at >= now() - INTERVAL 1 HOUR GROUP BY minute ORDER BY minute`,
    ),
    engine.query<DataHealth['recent_ingests'][number]>(
      `SELECT toString(started_at) AS at, source_file AS source, read, stored, quarantined, duplicates, seconds
       FROM ingests ORDER BY started_at DESC LIMIT 20`,
    ),
    engine.query<{ reason: string; n: number }>(
      'SELECT reason, count() AS n FROM quarantine GROUP BY reason ORDER BY n DESC',
    ),
  ]);
  const t = totals[0];
  const total = Number(t?.n ?? 0);
  const lastHour = perMinute.reduce((n, m) => n + Number(m.stored), 0);
  return {
    now: new Date().toISOString(),
    events: {
      total,
      newest: total ? (t?.newest ?? null) : null,
      newest_ingested_at: total ? (t?.ingested ?? null) : null,
    },
    event_lag_seconds: total ? Number(t?.lag ?? 0) : null,
    per_minute: perMinute,
    rate_per_s: Math.round(lastHour / 3600),
    // Only the file name: the folder layout of a log shipper is nobody's business in the console.
    recent_ingests: recent.map((r) => ({ ...r, source: path.basename(r.source) })),
    quarantine: {
      total: reasons.reduce((n, r) => n + Number(r.n), 0),
      by_reason: Object.fromEntries(reasons.map((r) => [r.reason, Number(r.n)])),
    },
    detection: {
      window_seconds: windowSeconds,
      last_window_end: live.detected_until,
      watermark: live.watermark,
      lag_windows: live.detection_lag_windows,
      runs: live.detection_runs,
      last_run_seconds: live.detection_seconds_last,
      error: live.detection_error,
    },
    live,
  };
}
