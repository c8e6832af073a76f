import type { Dialect } from './dialect/dialect.ts';

/** Values bound to `{name:Type}` placeholders; never spliced into SQL by callers. */
export type Params = Record<string, string | number | boolean | null | string[] | number[]>;

export type Row = Record<string, unknown>;

/** Raw text formats an engine accepts for bulk inserts. */
export type InsertFormat = 'JSONEachRow' | 'TSV' | 'CSV' | 'CSVWithNames';

/**
 * The one door to a ClickHouse-family engine. Everything above it speaks ClickHouse SQL through
 * these few calls; the embedded chDB session and a ClickHouse server both implement it, and
 * version differences are answered by `dialect`, not by the callers.
 */
export interface Engine {
  readonly kind: 'embedded' | 'server';
  readonly dialect: Dialect;
  /** Human-readable location, for messages. */
  readonly location: string;
  /** Runs a statement whose result is not needed (DDL, INSERT … SELECT). */
  exec(sql: string, params?: Params): Promise<void>;
  /** Runs a query and returns its rows as objects (JSONEachRow; 64-bit ints as numbers). */
  query<T = Row>(sql: string, params?: Params): Promise<T[]>;
  /** Streams a query's rows in batches, for results too large to hold. */
  stream<T = Row>(sql: string, params?: Params): AsyncIterable<T[]>;
  /** Streams a query's result as raw bytes in a given output format (exports). */
  streamRaw(sql: string, format: string, params?: Params): AsyncIterable<Uint8Array>;
  /** Inserts rows given as objects. */
  insert(table: string, rows: readonly Row[]): Promise<void>;
  /** Inserts a payload already encoded in `format`, passed through without parsing in JS. */
  insertRaw(
    table: string,
    format: InsertFormat,
    payload: Buffer | AsyncIterable<Buffer | string>,
    columns?: readonly string[],
  ): Promise<void>;
  close(): Promise<void>;
}
