import type { Migration } from './types.ts';

/**
 * IP enrichment: country, ASN and AS organisation for any address, looked up inside the engine.
 *
 * The offline database ships as inclusive start–end ranges; `sources/enrich/ipdb.ts` converts them
 * to CIDR prefixes in SQL and fills the `*_prefixes` tables. IP_TRIE dictionaries over those tables
 * answer a longest-prefix match per address in memory (millions of lookups a second), so any query
 * can enrich with `dictGet` instead of a join. Dictionaries use LIFETIME(0): they change only when
 * the loader replaces the data and reloads them, never on a timer.
 *
 * ClickHouse 18.16 has neither `CREATE DICTIONARY` nor IPv6 types; enrichment is for 20.x and later.
 */
export const enrichment: Migration = {
  version: 3,
  name: 'ip enrichment',
  statements: (d) => [
    `CREATE TABLE IF NOT EXISTS ip_asn_prefixes (
      prefix String,
      asn UInt32,
      as_org String
    ) ${d.sqlMergeTree({ orderBy: 'tuple()' })}`,
    `CREATE TABLE IF NOT EXISTS ip_country_prefixes (
      prefix String,
      country ${d.lowCardinality('String')}
    ) ${d.sqlMergeTree({ orderBy: 'tuple()' })}`,
    // IANA special-purpose blocks (private, loopback, CGNAT, documentation…): checked before the
    // database, because the database itself maps some of them to countries.
    `CREATE TABLE IF NOT EXISTS ip_reserved (
      prefix String,
      label String
    ) ${d.sqlMergeTree({ orderBy: 'prefix' })}`,
    // Network class per ASN, from the hand-curated data/asn-classes.csv.
    `CREATE TABLE IF NOT EXISTS asn_classes (
      asn UInt64,
      class ${d.lowCardinality('String')},
      name String,
      source String
    ) ${d.sqlMergeTree({ orderBy: 'asn' })}`,
    // What is loaded: one row per load of a part (asn, country, classes), newest wins.
    `CREATE TABLE IF NOT EXISTS ip_db_loads (
      part ${d.lowCardinality('String')},
      source String,
      version String,
      rows UInt64,
      loaded_at DateTime,
      seconds Float64
    ) ${d.sqlMergeTree({ orderBy: '(part, loaded_at)' })}`,
    `CREATE DICTIONARY IF NOT EXISTS ip_asn (prefix String, asn UInt32, as_org String)
      PRIMARY KEY prefix SOURCE(CLICKHOUSE(TABLE 'ip_asn_prefixes')) LIFETIME(0) LAYOUT(IP_TRIE)`,
    `CREATE DICTIONARY IF NOT EXISTS ip_country (prefix String, country String)
      PRIMARY KEY prefix SOURCE(CLICKHOUSE(TABLE 'ip_country_prefixes')) LIFETIME(0) LAYOUT(IP_TRIE)`,
    `CREATE DICTIONARY IF NOT EXISTS ip_reserved_dict (prefix String, label String)
      PRIMARY KEY prefix SOURCE(CLICKHOUSE(TABLE 'ip_reserved')) LIFETIME(0) LAYOUT(IP_TRIE)`,
    `CREATE DICTIONARY IF NOT EXISTS asn_class_dict (asn UInt64, class String, name String)
      PRIMARY KEY asn SOURCE(CLICKHOUSE(TABLE 'asn_classes')) LIFETIME(0) LAYOUT(HASHED())`,
  ],
};
