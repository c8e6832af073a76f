import type { Migration } from './types.ts';

/**
 * The event store. One table for OCSF API Activity (6003) and Authentication (3002): both carry a
 * principal, a token, a signing key and a client address, and detection joins them constantly.
 *
 * Partitioned by month: a month is the unit of retention and of most replays, and keeps the part
 * count low when late events arrive for old days. Ordered by (hour, class, actor, time): every
 * detector reads event-time windows, so the hour comes first and a window scan touches only its
 * granules; within an hour, rows of one actor sit together, which makes per-actor lookups and
 * `uniqExact(subject)` per actor cheap. Lookups by address, key or token (scoping) use bloom-filter
 * skip indexes instead of a second ordering. Country, ASN and network class are looked up once, at
 * ingest, in the engine; the gateway's own country/ASN, when sent, are kept beside them.
 */
export const events: Migration = {
  version: 1,
  name: 'events and quarantine',
  statements: (d) => [
    `CREATE TABLE IF NOT EXISTS events (
      event_id String,
      time ${d.timeType()},
      class_uid UInt16,
      activity_id UInt8,
      status_id UInt8,
      actor_uid String,
      actor_type ${d.lowCardinality('String')},
      token_id String,
      key_id ${d.lowCardinality('String')},
      token_created_ms Int64,
      token_expires_ms Int64,
      issuer ${d.lowCardinality('String')},
      src_ip ${d.ipType()},
      reported_country ${d.lowCardinality('String')},
      reported_asn UInt32,
      country ${d.lowCardinality('String')},
      asn UInt32,
      as_org ${d.lowCardinality('String')},
      net_class ${d.lowCardinality('String')},
      http_method ${d.lowCardinality('String')},
      url_path String,
      user_agent ${d.lowCardinality('String')},
      operation ${d.lowCardinality('String')},
      request_id String,
      subject_ids Array(String),
      subject_types Array(${d.lowCardinality('String')}),
      http_status UInt16,
      response_bytes UInt64,
      is_mfa Int8,
      source_file ${d.lowCardinality('String')},
      source_line UInt64,
      ingested_at DateTime,
      unmapped ${d.withCodec('String', 'ZSTD(3)')}
      ${[
        d.sqlSkipIndex('idx_ip', 'src_ip', 'bloom_filter(0.01)'),
        d.sqlSkipIndex('idx_key', 'key_id', 'set(64)'),
        d.sqlSkipIndex('idx_token', 'token_id', 'bloom_filter(0.01)'),
        d.sqlSkipIndex('idx_event', 'event_id', 'bloom_filter(0.01)'),
      ]
        .filter((x) => x !== null)
        .map((x) => `, ${x}`)
        .join('\n')}
    ) ${d.sqlMergeTree({ partitionBy: 'toYYYYMM(time)', orderBy: '(toStartOfHour(time), class_uid, actor_uid, time)' })}`,
    // Lines that could not be stored, with why and where; nothing read is ever dropped silently.
    `CREATE TABLE IF NOT EXISTS quarantine (
      ingest_id String,
      source_file String,
      source_line UInt64,
      reason ${d.lowCardinality('String')},
      detail String,
      line_hash UInt64,
      raw ${d.withCodec('String', 'ZSTD(3)')},
      quarantined_at DateTime
    ) ${d.sqlMergeTree({ orderBy: '(reason, source_file, source_line)' })}`,
    // One row per ingested input: the reconciliation ledger (read = stored + quarantined + duplicates).
    `CREATE TABLE IF NOT EXISTS ingests (
      ingest_id String,
      source_file String,
      bytes UInt64,
      read UInt64,
      stored UInt64,
      quarantined UInt64,
      duplicates UInt64,
      min_time ${d.timeType()},
      max_time ${d.timeType()},
      started_at DateTime,
      seconds Float64
    ) ${d.sqlMergeTree({ orderBy: '(started_at, ingest_id)' })}`,
  ],
};
