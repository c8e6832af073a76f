import type { Migration } from './types.ts';

/**
 * Each stored event's input line, verbatim, with the format that read it: the event in its raw
 * form (spec/inputs.md: anything on an event Vigil does not map is kept), for formats whose events
 * are one line each (OCSF). What Vigil does not map is cut out of it when read, by that format
 * (`eventRecords` in src/sources), not at ingest: over 2 M OCSF lines carrying the fields OCSF
 * requires, cutting it out of every line held ingest to ~0.35 of a bare parse's rate; keeping the
 * line costs ~1.5 µs an event. The exact line is also the better evidence: it can be shown, hashed
 * and handed over as read.
 *
 * Beside `events` rather than in it: `events` is sorted by time and actor for detection, and
 * carrying a kilobyte a row through its sort and merges cost more than writing the lines apart
 * (a trial with the line in `events` ran at 0.39 of bare). Partitioned like `events`, so a month
 * is dropped from both alike. Ordered by where a line was read, the order it arrives in (no sort
 * at insert): an event's line is found from its `source_file` and `source_line`, and the event id
 * tells it from another input read under the same name (a rotated log, stdin). Lines arrive
 * roughly in time order, so a min/max of time per granule lets ingest find the ids already kept in
 * a time range without reading the rest.
 *
 * Room, the demo's 1.8 M events: the lines alone 70 MiB with ZSTD(1) (1.5–1.8 s to write 1.07 GB),
 * 131 with LZ4 (1.8 s), 65 with ZSTD(6) (6.7 s). The whole table took 72 MiB, 42 bytes an event,
 * about as much as every `events` column together (46.5): keeping the lines nearly doubles the
 * store. Without the codecs on ids, times and line numbers it took 87 MiB (81 ordered by hour and
 * id instead).
 */
export const rawEvents: Migration = {
  version: 14,
  name: 'raw events',
  statements: (d) => [
    `CREATE TABLE IF NOT EXISTS raw_events (
      event_id ${d.withCodec('String', 'ZSTD(1)')},
      time ${d.withCodec(d.timeType(), 'Delta, ZSTD(1)')},
      format ${d.lowCardinality('String')},
      source_file ${d.lowCardinality('String')},
      source_line ${d.withCodec('UInt64', 'Delta, ZSTD(1)')},
      raw ${d.withCodec('String', 'ZSTD(1)')}
      ${d.supportsSkipIndexes ? `, ${d.sqlSkipIndex('idx_time', 'time', 'minmax')}` : ''}
    ) ${d.sqlMergeTree({ partitionBy: 'toYYYYMM(time)', orderBy: '(source_file, source_line)' })}`,
  ],
};
