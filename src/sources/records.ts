import type { Engine } from '../store/index.ts';
import type { EventSource } from './source.ts';

/** A stored event as it came in: where it was read, its line verbatim, what Vigil does not map. */
export interface EventRecord {
  event_id: string;
  /** Event time, `YYYY-MM-DD hh:mm:ss.sss` UTC. */
  time: string;
  source_file: string;
  source_line: number;
  /** The input line as read; '' where none was kept (a format without `remainderSelect`). */
  raw: string;
  /** What Vigil does not map, as a JSON object ('' when nothing). */
  unmapped: string;
}

/**
 * The records of the stored events with these ids, in time order (ids not stored are left out).
 * The remainder of a kept line is computed here by the format that read it; a format that keeps no
 * lines stored it at ingest (`EventSource.remainderSelect`).
 */
export async function readRecords(
  engine: Engine,
  sources: ReadonlyMap<string, EventSource>,
  ids: readonly string[],
): Promise<EventRecord[]> {
  if (ids.length === 0) return [];
  const events = await engine.query<Omit<EventRecord, 'raw'>>(
    `SELECT event_id, toString(time) AS time, source_file, source_line, unmapped
     FROM events WHERE event_id IN {ids:Array(String)}
     ORDER BY time, event_id LIMIT 1 BY event_id`,
    { ids: [...ids] },
  );
  if (events.length === 0) return [];
  // Where each was read selects its line by `raw_events`' primary key; the id, among lines read
  // there under the same name.
  const kept = `(SELECT event_id, format, raw AS line FROM raw_events
    WHERE source_file IN {files:Array(String)} AND source_line IN {lines:Array(UInt64)}
      AND event_id IN {ids:Array(String)}
    LIMIT 1 BY event_id)`;
  const params = {
    files: [...new Set(events.map((e) => e.source_file))],
    lines: events.map((e) => e.source_line),
    ids: events.map((e) => e.event_id),
  };
  const lines = await engine.query<{ event_id: string; format: string; line: string }>(
    `SELECT event_id, format, line FROM ${kept}`,
    params,
  );
  const raw = new Map(lines.map((l) => [l.event_id, l.line]));
  const unmapped = new Map<string, string>();
  for (const format of new Set(lines.map((l) => l.format))) {
    const select = sources.get(format)?.remainderSelect;
    if (!select) continue;
    const rows = await engine.query<{ event_id: string; unmapped: string }>(
      select(`(SELECT event_id, line FROM ${kept} WHERE format = {format:String})`),
      { ...params, format },
    );
    for (const r of rows) unmapped.set(r.event_id, r.unmapped);
  }
  return events.map((e) => ({
    ...e,
    raw: raw.get(e.event_id) ?? '',
    unmapped: e.unmapped || (unmapped.get(e.event_id) ?? ''),
  }));
}
