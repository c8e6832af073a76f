import { Dialect } from './dialect.ts';

/** Windows that 18.x has a named function for; every other size is epoch arithmetic. */
const namedWindows: Record<number, string> = {
  60: 'toStartOfMinute',
  300: 'toStartOfFiveMinute',
  900: 'toStartOfFifteenMinutes',
  3600: 'toStartOfHour',
  86400: 'toStartOfDay',
};

/**
 * ClickHouse 18.x (Debian's `clickhouse-server` 18.16): the same SQL family without the last six
 * years of additions. Flags say what is missing; the methods below spell the same results with
 * what 18.16 has, and `dialect.test.ts` runs each of them on a real 18.16 server.
 *
 * Time: there is no DateTime64, so event times are `DateTime('UTC')`, whole seconds. The
 * milliseconds of an event time are not kept on this dialect (`sqlEpochMs` gives the second × 1000);
 * ordering inside a second falls back to the sort key's later columns. Token lifetimes keep their
 * milliseconds because they are stored as Int64 epoch-ms columns on every dialect.
 *
 * Addresses: there is no IPv6 type, so IP columns are `FixedString(16)` holding the same 16 bytes
 * (IPv4 mapped as ::ffff:a.b.c.d); `IPv6NumToString` reads both. MergeTree's modern syntax
 * (`PARTITION BY … ORDER BY …`) already exists in 18.16, so `sqlMergeTree` is inherited.
 */
export class LegacyDialect extends Dialect {
  readonly name: string = 'clickhouse-18';
  override readonly supportsQueryParams = false;
  override readonly supportsDateTime64 = false;
  override readonly supportsSkipIndexes = false;
  override readonly supportsWindowFunctions = false;
  override readonly supportsJsonFunctions = false;
  // 18.16 has LowCardinality only behind allow_experimental_low_cardinality_type: plain String.
  override readonly supportsLowCardinality = false;
  override readonly supportsCodecs = false;
  override readonly supportsDictionaries = false;
  override readonly supportsWideIntegers = false;
  override readonly supportsAsofJoin = false;
  override readonly supportsSimpleAggregates = false;

  override timeType(): string {
    return "DateTime('UTC')";
  }

  override ipType(): string {
    return 'FixedString(16)';
  }

  override sqlIpFromString(textExpr: string): string {
    // IPv6StringToNum in 18.16 returns zeros for dotted IPv4, so IPv4 is mapped explicitly.
    return `if(position(${textExpr}, ':') > 0, IPv6StringToNum(${textExpr}), IPv4ToIPv6(IPv4StringToNum(${textExpr})))`;
  }

  override sqlWindowStart(timeExpr: string, seconds: number): string {
    if (!Number.isInteger(seconds) || seconds <= 0) throw new Error(`window of ${seconds} s`);
    const named = namedWindows[seconds];
    if (named) return `${named}(${timeExpr})`;
    // Epoch-aligned, like toStartOfInterval with a SECOND interval in UTC.
    return `toDateTime(intDiv(toUInt32(${timeExpr}), ${seconds}) * ${seconds}, 'UTC')`;
  }

  override sqlEpochMs(timeExpr: string): string {
    return `(toInt64(toUInt32(${timeExpr})) * 1000)`;
  }

  override sqlFromEpochMs(msExpr: string): string {
    return `toDateTime(intDiv(toInt64(${msExpr}), 1000), 'UTC')`;
  }

  override sqlSubnet(ipExpr: string): string {
    // No IPv6CIDRToRange (nor repeat()): the /48 keeps the first 6 bytes and pads with 10 zeros.
    return `if(startsWith(IPv6NumToString(${ipExpr}), '::ffff:'),
      concat(IPv4NumToString(bitAnd(toUInt32(reinterpretAsUInt32(reverse(substring(reinterpretAsString(${ipExpr}), 13, 4)))), 4294967040)), '/24'),
      concat(IPv6NumToString(toFixedString(concat(substring(reinterpretAsString(${ipExpr}), 1, 6), '\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0'), 16)), '/48'))`;
  }

  protected override sqlParseTime(textLiteral: string, _type: string): string {
    // Any DateTime/DateTime64 parameter becomes a whole-second DateTime('UTC').
    return `CAST(parseDateTimeBestEffort(${textLiteral}) AS DateTime('UTC'))`;
  }

  override sqlSkipIndex(): null {
    return null;
  }
}
