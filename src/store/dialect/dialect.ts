/**
 * Every difference between ClickHouse versions lives here, as capability flags and `sql*`
 * methods (the Malloy pattern). Code above `store/` asks the dialect for a piece of SQL; it never
 * reads a version or an engine name.
 */
export abstract class Dialect {
  abstract readonly name: string;
  /** `{name:Type}` placeholders bound by the engine. Without them the engine inlines literals. */
  readonly supportsQueryParams: boolean = true;
  /** DateTime64 with milliseconds; otherwise times are DateTime plus a separate ms column. */
  readonly supportsDateTime64: boolean = true;
  /** Data-skipping indexes (bloom filters on IPs, keys, tokens). */
  readonly supportsSkipIndexes: boolean = true;
  readonly supportsWindowFunctions: boolean = true;
  /** JSONExtract* and friends, used to parse OCSF lines inside the engine. */
  readonly supportsJsonFunctions: boolean = true;
  readonly supportsLowCardinality: boolean = true;
  readonly supportsCodecs: boolean = true;
  /** `CREATE DICTIONARY` in SQL (older servers define dictionaries only in XML config files). */
  readonly supportsDictionaries: boolean = true;
  /** UInt128/Int128 and wider integer column types. */
  readonly supportsWideIntegers: boolean = true;
  /** `ASOF JOIN` (closest match on an ordered key, e.g. an address into IP ranges). */
  readonly supportsAsofJoin: boolean = true;
  /** `SimpleAggregateFunction(f, T)` columns in AggregatingMergeTree rollups. */
  readonly supportsSimpleAggregates: boolean = true;

  /** Type of an event-time column. */
  timeType(): string {
    return "DateTime64(3, 'UTC')";
  }

  /** Type of an IP-address column: 16 bytes, IPv4 stored mapped (::ffff:a.b.c.d). */
  ipType(): string {
    return 'IPv6';
  }

  /** An address given as text (IPv4 or IPv6) as a value of `ipType()`. */
  sqlIpFromString(textExpr: string): string {
    return `toIPv6(${textExpr})`;
  }

  lowCardinality(type: string): string {
    return this.supportsLowCardinality ? `LowCardinality(${type})` : type;
  }

  /** A column type with a compression codec, where codecs exist. */
  withCodec(type: string, codec: string): string {
    return this.supportsCodecs ? `${type} CODEC(${codec})` : type;
  }

  /** Bucket a time expression into fixed windows of `seconds`. */
  sqlWindowStart(timeExpr: string, seconds: number): string {
    return `toStartOfInterval(${timeExpr}, INTERVAL ${seconds} SECOND)`;
  }

  /** Epoch milliseconds of a time column. */
  sqlEpochMs(timeExpr: string): string {
    return `toUnixTimestamp64Milli(${timeExpr})`;
  }

  /** Time column from epoch milliseconds. */
  sqlFromEpochMs(msExpr: string): string {
    return `fromUnixTimestamp64Milli(toInt64(${msExpr}), 'UTC')`;
  }

  /** IP column (IPv6, IPv4 mapped) as the text people read: IPv4 without the ::ffff: prefix. */
  sqlIpToString(ipExpr: string): string {
    return `replaceRegexpOne(IPv6NumToString(${ipExpr}), '^::ffff:', '')`;
  }

  /** The /24 (IPv4) or /48 (IPv6) network an address is in, as CIDR text. */
  sqlSubnet(ipExpr: string): string {
    return `if(startsWith(IPv6NumToString(${ipExpr}), '::ffff:'),
      concat(IPv4NumToString(bitAnd(toUInt32(reinterpretAsUInt32(reverse(substring(reinterpretAsString(${ipExpr}), 13, 4)))), 4294967040)), '/24'),
      concat(IPv6NumToString(IPv6CIDRToRange(${ipExpr}, 48).1), '/48'))`;
  }

  /** Exact count of distinct values. */
  sqlExactDistinct(expr: string): string {
    return `uniqExact(${expr})`;
  }

  /** Approximate distinct count, for baselines where a percent of error is fine. */
  sqlApproxDistinct(expr: string): string {
    return `uniqCombined(${expr})`;
  }

  /** A string literal, escaped. Only for values that cannot be bound as parameters. */
  sqlString(value: string): string {
    return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  }

  /**
   * A value as a SQL literal of a ClickHouse type: how `{name:Type}` parameters are inlined by
   * engines without server-side binding. Numbers are checked, strings escaped with `sqlString`.
   */
  sqlLiteral(value: unknown, type: string): string {
    const t = type.trim();
    const nullable = /^Nullable\((.*)\)$/s.exec(t);
    if (value === null || value === undefined) {
      if (nullable) return 'NULL';
      throw new Error(`parameter of type ${t} is null`);
    }
    if (nullable?.[1]) return this.sqlLiteral(value, nullable[1]);
    const array = /^Array\((.*)\)$/s.exec(t);
    if (array?.[1]) {
      if (!Array.isArray(value)) throw new Error(`parameter of type ${t} is not an array`);
      const inner = array[1];
      return `[${value.map((v) => this.sqlLiteral(v, inner)).join(', ')}]`;
    }
    if (/^(U?Int\d+|Float\d+|Decimal.*)$/.test(t)) {
      const text = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
      if (!/^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
        throw new Error(`parameter of type ${t} is not a number: ${text}`);
      }
      return `CAST(${text} AS ${t})`;
    }
    if (t === 'Bool' || t === 'Boolean') return value ? '1' : '0';
    const text = this.sqlString(value instanceof Date ? value.toISOString() : String(value));
    if (t === 'String') return text;
    if (t.startsWith('DateTime')) return this.sqlParseTime(text, t);
    return `CAST(${text} AS ${t})`;
  }

  /** A time literal (ISO 8601 or 'YYYY-MM-DD hh:mm:ss[.fff]') as a value of a DateTime type. */
  protected sqlParseTime(textLiteral: string, type: string): string {
    const m = /^DateTime64\((\d+)(?:,\s*('[^']*'))?\)$/.exec(type);
    if (m) return `parseDateTime64BestEffort(${textLiteral}, ${m[1]}${m[2] ? `, ${m[2]}` : ''})`;
    return `CAST(parseDateTimeBestEffort(${textLiteral}) AS ${type})`;
  }

  /** Table engine and ordering clause for an append-only MergeTree table. */
  sqlMergeTree(opts: { orderBy: string; partitionBy?: string; engine?: string }): string {
    const engine = opts.engine ?? 'MergeTree';
    const partition = opts.partitionBy ? ` PARTITION BY ${opts.partitionBy}` : '';
    return `ENGINE = ${engine}${partition} ORDER BY ${opts.orderBy}`;
  }

  /** A data-skipping index clause inside CREATE TABLE, or nothing where unsupported. */
  sqlSkipIndex(name: string, expr: string, type: string, granularity = 4): string | null {
    return this.supportsSkipIndexes ? `INDEX ${name} ${expr} TYPE ${type} GRANULARITY ${granularity}` : null;
  }
}

/** ClickHouse 24+ (chDB 3.x ships 26.x): every capability. */
export class ModernDialect extends Dialect {
  readonly name: string = 'clickhouse-modern';
}
