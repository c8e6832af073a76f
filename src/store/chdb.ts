import { Session } from 'chdb';
import { ModernDialect } from './dialect/index.ts';
import type { Engine, InsertFormat, Params, Row } from './engine.ts';

/** Raised when chDB refuses a data directory because another process holds it. */
export class WorkspaceLockedError extends Error {}

/**
 * chDB passes scalar parameter values through verbatim, but arrays must be spelled as ClickHouse
 * literals (`['a','b']`), and its binding layer leaves no way to escape a quote inside one. Array
 * elements with a quote or backslash are refused; bind such lists as a JSON string and
 * `JSONExtract` it in SQL instead.
 */
function bindable(params: Params): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) {
      const items = v.map((x) => {
        if (typeof x === 'number') return String(x);
        if (/['\\]/.test(x)) throw new Error(`array parameter ${k} has an element with a quote or backslash`);
        return `'${x}'`;
      });
      out[k] = `[${items.join(',')}]`;
    } else if (v === null) {
      out[k] = '\\N';
    } else {
      out[k] = v;
    }
  }
  return out;
}

function parseJsonLines<T>(text: string): T[] {
  const rows: T[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    if (end > start) rows.push(JSON.parse(text.slice(start, end)) as T);
    start = end + 1;
  }
  return rows;
}

/** The embedded engine: ClickHouse in this process, data in the workspace directory. */
export class ChdbEngine implements Engine {
  readonly kind = 'embedded' as const;
  readonly dialect = new ModernDialect();
  private session: Session | null;

  private constructor(
    session: Session,
    readonly location: string,
  ) {
    this.session = session;
  }

  static open(dataDir: string): ChdbEngine {
    try {
      const session = new Session(dataDir, {
        connectionArgs: ['--output_format_json_quote_64bit_integers=0', '--async_load_databases=0'],
      });
      return new ChdbEngine(session, dataDir);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (/Cannot lock file|already running|only one active data directory/i.test(message)) {
        throw new WorkspaceLockedError(message);
      }
      throw err;
    }
  }

  private get s(): Session {
    if (!this.session) throw new Error('engine is closed');
    return this.session;
  }

  async exec(sql: string, params?: Params): Promise<void> {
    if (params) await this.s.queryBindAsync(sql, bindable(params), { format: 'Null' });
    else await this.s.queryAsync(sql, { format: 'Null' });
  }

  async query<T = Row>(sql: string, params?: Params): Promise<T[]> {
    const result = params
      ? await this.s.queryBindAsync(sql, bindable(params), { format: 'JSONEachRow' })
      : await this.s.queryAsync(sql, { format: 'JSONEachRow' });
    return parseJsonLines<T>(result.text());
  }

  async *stream<T = Row>(sql: string, params?: Params): AsyncIterable<T[]> {
    const stream = params
      ? this.s.queryStreamBind(sql, bindable(params), { format: 'JSONEachRow' })
      : this.s.queryStream(sql, { format: 'JSONEachRow' });
    for await (const chunk of stream) yield chunk.rows<T>();
  }

  async *streamRaw(sql: string, format: string, params?: Params): AsyncIterable<Uint8Array> {
    const stream = params
      ? this.s.queryStreamBind(sql, bindable(params), { format })
      : this.s.queryStream(sql, { format });
    for await (const chunk of stream) yield chunk.raw();
  }

  /**
   * Rows go in as JSON text through the `format()` table function rather than chDB's insert call:
   * that call refuses to run when the process's stdin is a pipe (as in `vigil ingest -`).
   */
  async insert(table: string, rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    const columns = Object.keys(rows[0]!);
    const payload = rows.map((r) => JSON.stringify(r)).join('\n');
    const list = columns.map((c) => `\`${c}\``).join(', ');
    await this.s.queryBindAsync(
      `INSERT INTO ${table} (${list}) SELECT ${list} FROM format(JSONEachRow, {payload:String})`,
      { payload },
      { format: 'Null' },
    );
  }

  async insertRaw(
    table: string,
    format: InsertFormat,
    payload: Buffer | AsyncIterable<Buffer | string>,
    columns?: readonly string[],
  ): Promise<void> {
    const base = columns ? { table, columns } : { table };
    if (Buffer.isBuffer(payload)) {
      await this.s.insert({ ...base, values: payload, format });
    } else {
      const streamFormat = format === 'CSV' || format === 'CSVWithNames' ? null : format;
      if (!streamFormat) throw new Error(`streamed inserts need a line format, not ${format}`);
      await this.s.insert({ ...base, values: payload, format: streamFormat });
    }
  }

  async close(): Promise<void> {
    this.session?.close();
    this.session = null;
  }
}
