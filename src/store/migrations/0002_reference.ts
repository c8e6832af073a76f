import type { Migration } from './types.ts';

/**
 * Reference data. Every load appends a full snapshot tagged with `load_seq`; nothing is updated in
 * place. The current view of a person or key is its row from the newest load that mentions it, so
 * a person dropped from a later HR export is still known, and older loads stay for history.
 * Categories are never copied into events: scoping joins the catalog as it is now.
 */
export const reference: Migration = {
  version: 2,
  name: 'reference data',
  statements: (d) => [
    `CREATE TABLE IF NOT EXISTS reference_loads (
      load_seq UInt64,
      kind ${d.lowCardinality('String')},
      source_file String,
      rows UInt64,
      sha256 String,
      loaded_at DateTime
    ) ${d.sqlMergeTree({ orderBy: '(kind, load_seq)' })}`,
    `CREATE TABLE IF NOT EXISTS people (
      load_seq UInt64,
      person_id String,
      principal_ids Array(String),
      department ${d.lowCardinality('String')},
      role ${d.lowCardinality('String')},
      country ${d.lowCardinality('String')},
      hired_on Nullable(Date),
      left_on Nullable(Date)
    ) ${d.sqlMergeTree({ orderBy: '(person_id, load_seq)' })}`,
    `CREATE TABLE IF NOT EXISTS signing_keys (
      load_seq UInt64,
      key_id String,
      purpose ${d.lowCardinality('String')},
      created_on Nullable(Date),
      retired_on Nullable(Date),
      custodians Array(String)
    ) ${d.sqlMergeTree({ orderBy: '(key_id, load_seq)' })}`,
    `CREATE TABLE IF NOT EXISTS services (
      load_seq UInt64,
      principal_id String,
      owner_team String,
      description String
    ) ${d.sqlMergeTree({ orderBy: '(principal_id, load_seq)' })}`,
    `CREATE TABLE IF NOT EXISTS catalog_categories (
      load_seq UInt64,
      category String,
      label String
    ) ${d.sqlMergeTree({ orderBy: '(load_seq, category)' })}`,
    // An operation name or a "METHOD /path/{template}" (kind = 'path', with its regex) -> categories.
    `CREATE TABLE IF NOT EXISTS catalog_entries (
      load_seq UInt64,
      kind ${d.lowCardinality('String')},
      name String,
      pattern String,
      categories Array(String)
    ) ${d.sqlMergeTree({ orderBy: '(load_seq, kind, name)' })}`,
    // Site settings: the whole validated document as JSON, one row per load.
    `CREATE TABLE IF NOT EXISTS site_settings (
      load_seq UInt64,
      document String
    ) ${d.sqlMergeTree({ orderBy: 'load_seq' })}`,
    // Current views: the newest load wins per id; catalog = the newest catalog load as a whole.
    `CREATE VIEW IF NOT EXISTS people_current AS
      SELECT person_id, argMax(principal_ids, load_seq) AS principal_ids,
        argMax(department, load_seq) AS department, argMax(role, load_seq) AS role,
        argMax(country, load_seq) AS country, argMax(hired_on, load_seq) AS hired_on,
        argMax(left_on, load_seq) AS left_on
      FROM people GROUP BY person_id`,
    `CREATE VIEW IF NOT EXISTS principals_current AS
      SELECT arrayJoin(principal_ids) AS principal_id, person_id, department, role, country, hired_on, left_on
      FROM people_current`,
    `CREATE VIEW IF NOT EXISTS keys_current AS
      SELECT key_id, argMax(purpose, load_seq) AS purpose, argMax(created_on, load_seq) AS created_on,
        argMax(retired_on, load_seq) AS retired_on, argMax(custodians, load_seq) AS custodians
      FROM signing_keys GROUP BY key_id`,
    `CREATE VIEW IF NOT EXISTS services_current AS
      SELECT principal_id, argMax(owner_team, load_seq) AS owner_team, argMax(description, load_seq) AS description
      FROM services GROUP BY principal_id`,
    `CREATE VIEW IF NOT EXISTS catalog_current AS
      SELECT kind, name, pattern, categories FROM catalog_entries
      WHERE load_seq = (SELECT max(load_seq) FROM catalog_entries)`,
  ],
};
