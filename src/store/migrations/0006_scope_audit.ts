import type { Migration } from './types.ts';

/**
 * Scoping results and the audit trail.
 *
 * A scope computation is kept in the engine (`scope_runs` + `scope_events` + `exposures`, keyed by
 * computation id) so exports, the server and `vigil eval` reuse it instead of recomputing. Rows
 * are never updated: a rescope (say after a catalog change) is a new computation, and the newest
 * one per incident is the current answer.
 *
 * `audit_log` is append-only by convention and by API (`src/scope/audit.ts` offers no update or
 * delete): who computed, exported or read subject-level data, when, for which incident, how many
 * rows, written where.
 */
export const scopeAudit: Migration = {
  version: 6,
  name: 'scope results and audit log',
  statements: (d) => [
    `CREATE TABLE IF NOT EXISTS audit_log (
      at ${d.timeType()},
      who String,
      role ${d.lowCardinality('String')},
      action ${d.lowCardinality('String')},
      incident String,
      rows UInt64,
      target String,
      detail String
    ) ${d.sqlMergeTree({ orderBy: '(at, action)' })}`,
    // One row per computation: its parameters, how long it took and the summary as JSON.
    `CREATE TABLE IF NOT EXISTS scope_runs (
      computation_id String,
      incident String,
      computed_at ${d.timeType()},
      who String,
      catalog_load_seq UInt64,
      fingerprint String,
      subjects UInt64,
      events UInt64,
      seconds Float64,
      summary ${d.withCodec('String', 'ZSTD(3)')}
    ) ${d.sqlMergeTree({ orderBy: '(incident, computed_at)' })}`,
    // Every event attributed to the attacker, slimmed to what summaries need; categories resolved
    // from the catalog at computation time. exposing = a successful call that returned subjects.
    `CREATE TABLE IF NOT EXISTS scope_events (
      computation_id String,
      event_id String,
      time ${d.timeType()},
      class_uid UInt16,
      round UInt8,
      confidence ${d.lowCardinality('String')},
      indicator ${d.lowCardinality('String')},
      forged UInt8,
      exposing UInt8,
      operation ${d.lowCardinality('String')},
      known UInt8,
      categories Array(${d.lowCardinality('String')}),
      actor_uid String,
      token_id String,
      key_id ${d.lowCardinality('String')},
      src_ip ${d.ipType()},
      net_class ${d.lowCardinality('String')},
      country ${d.lowCardinality('String')},
      asn UInt32,
      as_org ${d.lowCardinality('String')},
      user_agent ${d.lowCardinality('String')},
      subject_ids Array(String),
      subject_types Array(${d.lowCardinality('String')})
    ) ${d.sqlMergeTree({ orderBy: '(computation_id, time)' })}`,
    // One row per exposed subject per computation: what `--out` exports.
    `CREATE TABLE IF NOT EXISTS exposures (
      computation_id String,
      incident String,
      subject_id String,
      subject_type ${d.lowCardinality('String')},
      categories Array(${d.lowCardinality('String')}),
      first_exposed ${d.timeType()},
      last_exposed ${d.timeType()},
      events UInt64,
      confidence ${d.lowCardinality('String')},
      indicator ${d.lowCardinality('String')}
    ) ${d.sqlMergeTree({ orderBy: '(computation_id, subject_id)' })}`,
  ],
};
