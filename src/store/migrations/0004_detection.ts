import type { Migration } from './types.ts';

/**
 * Detection state: findings, per-detector checkpoints, and incidents. All append-only; the current
 * row of anything is its highest version (or sequence), read with `LIMIT 1 BY`, so a re-run or a
 * crash mid-run never needs an UPDATE and history stays for audit.
 *
 * - `findings`: one row per version of a finding. A finding's id is a hash of (detector, entity,
 *   window start), so re-evaluating a window yields the same id; a new version is written only when
 *   its content changed (late events).
 * - `detection_checkpoints`: how far each detector has judged, with the fingerprint of its
 *   parameters (a changed detector replays from the start) and the ingest watermark used to find
 *   late events.
 * - `incidents`: one row per version of an incident (workflow may append versions too).
 * - `incident_members`: which incident an entity was first grouped into (the persisted union-find;
 *   merged incidents point to their root through `merged_into`).
 * - `incident_findings`: which findings an incident holds.
 */
export const detection: Migration = {
  version: 4,
  name: 'detection: findings, checkpoints, incidents',
  statements: (d) => [
    `CREATE TABLE IF NOT EXISTS findings (
      finding_id String,
      version UInt32,
      detector ${d.lowCardinality('String')},
      entity_type ${d.lowCardinality('String')},
      entity_id String,
      window_start ${d.timeType()},
      window_end ${d.timeType()},
      score Float32,
      summary String,
      evidence ${d.withCodec('String', 'ZSTD(3)')},
      related_types Array(${d.lowCardinality('String')}),
      related_ids Array(String),
      content_hash String,
      run_id String,
      created_at DateTime
    ) ${d.sqlMergeTree({ partitionBy: 'toYYYYMM(window_start)', orderBy: '(detector, window_start, entity_type, entity_id, version)' })}`,
    `CREATE TABLE IF NOT EXISTS detection_checkpoints (
      seq UInt64,
      detector ${d.lowCardinality('String')},
      fingerprint String,
      window_seconds UInt32,
      checkpoint ${d.timeType()},
      ingest_watermark DateTime,
      updated_at DateTime
    ) ${d.sqlMergeTree({ orderBy: '(detector, seq)' })}`,
    `CREATE TABLE IF NOT EXISTS incidents (
      incident_id String,
      version UInt32,
      title String,
      summary String,
      severity ${d.lowCardinality('String')},
      status ${d.lowCardinality('String')},
      merged_into String,
      first_seen ${d.timeType()},
      detected_at ${d.timeType()},
      last_seen ${d.timeType()},
      risk Float64,
      entity_types Array(${d.lowCardinality('String')}),
      entity_ids Array(String),
      categories Array(String),
      detectors Array(String),
      finding_count UInt32,
      updated_at DateTime
    ) ${d.sqlMergeTree({ orderBy: '(incident_id, version)' })}`,
    `CREATE TABLE IF NOT EXISTS incident_members (
      entity_type ${d.lowCardinality('String')},
      entity_id String,
      incident_id String,
      added_at ${d.timeType()}
    ) ${d.sqlMergeTree({ orderBy: '(entity_type, entity_id, added_at)' })}`,
    `CREATE TABLE IF NOT EXISTS incident_findings (
      incident_id String,
      finding_id String,
      window_end ${d.timeType()}
    ) ${d.sqlMergeTree({ orderBy: '(incident_id, window_end, finding_id)' })}`,
  ],
};
