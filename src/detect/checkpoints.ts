import { createHash } from 'node:crypto';
import type { Engine } from '../store/index.ts';
import type { DetectContext, Detector } from './detector.ts';
import { parseSqlTime, sqlTime } from './sql.ts';

/**
 * How far each detector has judged. A checkpoint is the end of the last window judged, with the
 * fingerprint it was judged under (detector revision, parameters, window size) and the newest
 * `ingested_at` seen then, from which late events are found on the next run. A detector whose
 * fingerprint changed, or that has no checkpoint, replays from the start (a retro-hunt).
 */

export interface Checkpoint {
  detector: string;
  fingerprint: string;
  windowSeconds: number;
  /** Windows before this instant are judged. */
  at: Date;
  /** `ingested_at` watermark (engine DateTime text): events ingested since are looked at as late. */
  ingestWatermark: string;
}

export function fingerprint(
  detector: Detector,
  params: DetectContext['params'],
  windowSeconds: number,
): string {
  const body = JSON.stringify({
    id: detector.meta.id,
    revision: detector.meta.revision ?? 1,
    params: Object.entries(params).sort(([a], [b]) => a.localeCompare(b)),
    windowSeconds,
  });
  return createHash('sha256').update(body).digest('hex').slice(0, 16);
}

export async function loadCheckpoints(engine: Engine): Promise<Map<string, Checkpoint>> {
  const rows = await engine.query<{
    detector: string;
    fingerprint: string;
    window_seconds: number;
    checkpoint: string;
    ingest_watermark: string;
  }>(
    `SELECT detector, fingerprint, window_seconds, checkpoint, ingest_watermark FROM detection_checkpoints
     ORDER BY detector, seq DESC LIMIT 1 BY detector`,
  );
  return new Map(
    rows.map((r) => [
      r.detector,
      {
        detector: r.detector,
        fingerprint: r.fingerprint,
        windowSeconds: Number(r.window_seconds),
        at: parseSqlTime(r.checkpoint),
        ingestWatermark: r.ingest_watermark,
      },
    ]),
  );
}

let lastSeq = 0;

export async function saveCheckpoints(engine: Engine, checkpoints: readonly Checkpoint[]): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  await engine.insert(
    'detection_checkpoints',
    checkpoints.map((c) => {
      // Strictly increasing, so the newest row always wins even within one millisecond.
      lastSeq = Math.max(lastSeq + 1, Date.now() * 1000);
      return {
        seq: lastSeq,
        detector: c.detector,
        fingerprint: c.fingerprint,
        window_seconds: c.windowSeconds,
        checkpoint: sqlTime(c.at),
        ingest_watermark: c.ingestWatermark,
        updated_at: now,
      };
    }),
  );
}
