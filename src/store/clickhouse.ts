import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  type ClickHouseClient,
  ClickHouseLogLevel,
  type ClickHouseSettings,
  createClient,
} from '@clickhouse/client';
import { UserError } from '../cli/errors.ts';
import { planClusterStatement } from './cluster.ts';
import type { Dialect } from './dialect/index.ts';
import { dialectForVersion } from './dialect/index.ts';
import type { Engine, InsertFormat, Params, Row } from './engine.ts';
import { type ColumnType, encodeTsv } from './tsv.ts';

/** What a `clickhouse://user:pass@host:port/db?cluster=NAME` URL says. */
export interface ServerTarget {
  /** HTTP(S) endpoint of the entry server. */
  url: string;
  username: string;
  password: string;
  database: string;
  cluster: string | null;
  /** Every server's HTTP endpoint (`nodes=host:port,…`); default: cluster hosts on the entry's port. */
  nodes: string[] | null;
  /** Server-side limit on every query, seconds (`max_execution_time=`; default 600). */
  maxExecutionTime: number;
}

export function parseEngineUrl(raw: string): ServerTarget {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UserError(
      `not a URL: ${raw}`,
      'Use clickhouse://user:password@host:8123/database?cluster=NAME',
    );
  }
  if (u.protocol !== 'clickhouse:' && u.protocol !== 'clickhouses:') {
    throw new UserError(
      `unsupported engine URL scheme ${u.protocol}`,
      'Use clickhouse:// (HTTP) or clickhouses:// (HTTPS)',
    );
  }
  const scheme = u.protocol === 'clickhouses:' ? 'https' : 'http';
  const port = u.port || (scheme === 'https' ? '8443' : '8123');
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'default';
  if (!/^\w+$/.test(database))
    throw new UserError(`bad database name "${database}"`, 'Letters, digits and _ only.');
  const cluster = u.searchParams.get('cluster');
  if (cluster !== null && !/^\w+$/.test(cluster))
    throw new UserError(`bad cluster name "${cluster}"`, 'Letters, digits and _ only.');
  const nodes = u.searchParams.get('nodes');
  const limit = Number(u.searchParams.get('max_execution_time') ?? 600);
  if (!Number.isFinite(limit) || limit <= 0)
    throw new UserError('max_execution_time must be a positive number of seconds');
  return {
    url: `${scheme}://${u.hostname}:${port}`,
    username: decodeURIComponent(u.username) || 'default',
    password: decodeURIComponent(u.password),
    database,
    cluster,
    nodes: nodes ? nodes.split(',').map((n) => (/^https?:\/\//.test(n) ? n : `${scheme}://${n}`)) : null,
    maxExecutionTime: limit,
  };
}

const nodeFormat = (f: InsertFormat): string => (f === 'TSV' ? 'TabSeparated' : f);
const ident = (name: string): string => (/^\w+$/.test(name) ? name : `\`${name.replace(/`/g, '\\`')}\``);

/**
 * A ClickHouse server (or cluster) over HTTP. Every request carries `max_execution_time`, because
 * a server keeps running a query its client gave up on; when a request fails or a stream is left
 * early, the query is also killed by id. Parameters are bound by the server where the dialect says
 * it can, else inlined as literals the dialect escapes. With `?cluster=NAME`, DDL goes to every
 * server and MergeTree tables become `<t>_local` + a Distributed `<t>` (see cluster.ts).
 */
export class ClickHouseServerEngine implements Engine {
  readonly kind = 'server' as const;
  private readonly columnTypes = new Map<string, ColumnType[]>();
  private readonly distributed = new Set<string>();

  private constructor(
    private readonly client: ClickHouseClient,
    /** Every server of the cluster (the entry first), or just the entry. */
    private readonly nodes: ClickHouseClient[],
    readonly dialect: Dialect,
    readonly location: string,
    private readonly target: ServerTarget,
  ) {}

  static async connect(rawUrl: string): Promise<ClickHouseServerEngine> {
    const target = parseEngineUrl(rawUrl);
    const boot = makeClient(target, target.url, null);
    let version: string;
    try {
      version = (await textOf(boot, 'SELECT version()', target)).trim();
    } catch (err) {
      await boot.close();
      throw new UserError(
        `cannot reach ClickHouse at ${target.url}: ${err instanceof Error ? err.message : String(err)}`,
        'Check the host, port (HTTP, usually 8123), user and password in the engine URL.',
      );
    }
    const dialect = dialectForVersion(version);
    if (!dialect) {
      await boot.close();
      throw new UserError(
        `ClickHouse ${version} at ${target.url} is not supported`,
        'Vigil speaks ClickHouse 18.x (legacy) and 23 or later.',
      );
    }
    let nodeUrls = [target.url];
    if (target.cluster) nodeUrls = await discoverNodes(boot, target);
    await boot.close();
    for (const url of nodeUrls) {
      const c = makeClient(target, url, null);
      try {
        await c.command({
          query: `CREATE DATABASE IF NOT EXISTS ${target.database}`,
          clickhouse_settings: settings(target),
        });
      } finally {
        await c.close();
      }
    }
    const nodes = nodeUrls.map((url) => makeClient(target, url, target.database));
    const where = target.cluster ? `, cluster ${target.cluster} of ${nodeUrls.length} servers` : '';
    const location = `${target.url}/${target.database} (ClickHouse ${version}${where})`;
    const engine = new ClickHouseServerEngine(nodes[0] as ClickHouseClient, nodes, dialect, location, target);
    if (target.cluster) await engine.loadDistributed();
    return engine;
  }

  /**
   * SQL with `{name:Type}` placeholders filled in as literals, for servers that cannot bind them.
   * An array after `IN` becomes a tuple (18.x refuses `x IN [..]`); an empty one, an empty subquery.
   */
  inline(sql: string, params: Params): string {
    return sql.replace(
      /(\bIN\s*(\(\s*)?)?\{(\w+):\s*([^{}]+?)\s*\}/gi,
      (_m, inClause, paren, name: string, type: string) => {
        if (!(name in params)) throw new Error(`no value for query parameter ${name}`);
        const value = params[name];
        const array = /^Array\((.*)\)$/s.exec(type.trim());
        if (!inClause || !array?.[1] || !Array.isArray(value))
          return `${inClause ?? ''}${this.dialect.sqlLiteral(value, type)}`;
        const inner = array[1];
        const list =
          value.length > 0
            ? value.map((v) => this.dialect.sqlLiteral(v, inner)).join(', ')
            : `SELECT arrayJoin(CAST([] AS ${type})) WHERE 0`;
        return paren ? `${inClause}${list}` : `${inClause}(${list})`;
      },
    );
  }

  private request(sql: string, params?: Params) {
    const query = params && !this.dialect.supportsQueryParams ? this.inline(sql, params) : sql;
    const query_params = params && this.dialect.supportsQueryParams ? params : undefined;
    return { query, query_params, query_id: randomUUID(), clickhouse_settings: settings(this.target) };
  }

  /** Stops a query the server may still be running after its request ended badly. */
  private async kill(client: ClickHouseClient, queryId: string): Promise<void> {
    try {
      await client.command({
        query: `KILL QUERY WHERE query_id = ${this.dialect.sqlString(queryId)} ASYNC`,
        clickhouse_settings: settings(this.target),
      });
    } catch {
      // The server may be gone; the query's own max_execution_time still bounds it.
    }
  }

  private async command(client: ClickHouseClient, sql: string, params?: Params): Promise<void> {
    const req = this.request(sql, params);
    try {
      await client.command(req);
    } catch (err) {
      await this.kill(client, req.query_id);
      throw err;
    }
  }

  async exec(sql: string, params?: Params): Promise<void> {
    const plan = this.target.cluster
      ? planClusterStatement(sql, this.target.cluster, this.target.database, (t) => this.distributed.has(t))
      : ({ kind: 'entry' } as const);
    if (plan.kind === 'entry') return this.command(this.client, sql, params);
    for (const statement of plan.statements) {
      for (const node of this.nodes) await this.command(node, statement, params);
    }
    await this.loadDistributed();
    this.columnTypes.clear();
  }

  async query<T = Row>(sql: string, params?: Params): Promise<T[]> {
    const rows: T[] = [];
    for await (const batch of this.stream<T>(sql, params)) rows.push(...batch);
    return rows;
  }

  async *stream<T = Row>(sql: string, params?: Params): AsyncIterable<T[]> {
    let rest = '';
    const decoder = new TextDecoder();
    for await (const chunk of this.streamRaw(sql, 'JSONEachRow', params)) {
      const text = rest + decoder.decode(chunk, { stream: true });
      const end = text.lastIndexOf('\n');
      rest = text.slice(end + 1);
      if (end < 0) continue;
      yield text
        .slice(0, end)
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as T);
    }
    rest += decoder.decode();
    if (rest.trim()) yield [JSON.parse(rest) as T];
  }

  async *streamRaw(sql: string, format: string, params?: Params): AsyncIterable<Uint8Array> {
    const req = this.request(`${sql.trim().replace(/;$/, '')}\nFORMAT ${format}`, params);
    let done = false;
    let stream: Readable | null = null;
    try {
      stream = (await this.client.exec(req)).stream;
      for await (const chunk of stream) yield chunk as Uint8Array;
      done = true;
    } finally {
      if (!done) {
        stream?.destroy();
        await this.kill(this.client, req.query_id);
      }
    }
  }

  /** Column names and types of a table, for encoding rows on servers without typed JSON input. */
  private async columnsOf(table: string): Promise<ColumnType[]> {
    const cached = this.columnTypes.get(table);
    if (cached) return cached;
    // system.columns lists a table's columns in table order (18.16 has no `position` to sort by).
    const cols = await this.query<ColumnType>(
      'SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {t:String}',
      { db: this.target.database, t: table },
    );
    if (cols.length === 0) throw new Error(`no table ${this.target.database}.${table}`);
    this.columnTypes.set(table, cols);
    return cols;
  }

  async insert(table: string, rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    if (this.dialect.ipType() === 'IPv6') {
      await this.insertRaw(
        table,
        'JSONEachRow',
        Buffer.from(`${rows.map((r) => JSON.stringify(r)).join('\n')}\n`),
      );
      return;
    }
    // Without an IPv6 type, addresses are FixedString(16) bytes that JSON cannot carry: send TSV.
    const { columns, text } = encodeTsv(rows, await this.columnsOf(table));
    await this.insertRaw(table, 'TSV', Buffer.from(text), columns);
  }

  async insertRaw(
    table: string,
    format: InsertFormat,
    payload: Buffer | AsyncIterable<Buffer | string>,
    columns?: readonly string[],
  ): Promise<void> {
    const cols = columns && columns.length > 0 ? ` (${columns.map(ident).join(', ')})` : '';
    const req = this.request(`INSERT INTO ${ident(table)}${cols} FORMAT ${nodeFormat(format)}`);
    const values = Buffer.isBuffer(payload) ? Readable.from([payload]) : Readable.from(payload);
    try {
      const result = await this.client.exec({ ...req, values });
      for await (const _ of result.stream) {
        // drain the (empty) response so the connection is released
      }
    } catch (err) {
      await this.kill(this.client, req.query_id);
      throw err;
    }
  }

  /** Which tables here are Distributed ones over `<t>_local`, so TRUNCATE can reach the shards. */
  private async loadDistributed(): Promise<void> {
    const rows = await this.query<{ name: string }>(
      "SELECT name FROM system.tables WHERE database = {db:String} AND engine = 'Distributed'",
      { db: this.target.database },
    );
    this.distributed.clear();
    for (const r of rows) this.distributed.add(r.name);
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.close()));
  }
}

function settings(target: ServerTarget): ClickHouseSettings {
  return {
    max_execution_time: target.maxExecutionTime,
    // 64-bit integers as JSON numbers, like the embedded engine.
    output_format_json_quote_64bit_integers: 0,
    // ISO 8601 times (with T, Z, fractions) in inserts, like JSON from the sources.
    date_time_input_format: 'best_effort',
    // An insert through a Distributed table returns once every shard has its rows, so a read right
    // after sees them and a failing shard fails the insert instead of a background queue.
    insert_distributed_sync: 1,
  };
}

function makeClient(target: ServerTarget, url: string, database: string | null): ClickHouseClient {
  return createClient({
    url,
    username: target.username,
    password: target.password,
    ...(database ? { database } : {}),
    // The server stops a query at max_execution_time; the client waits a little longer for its answer.
    request_timeout: (target.maxExecutionTime + 30) * 1000,
    compression: { request: false, response: false },
    // Errors reach the caller as exceptions; the client's own console logging would repeat them.
    log: { level: ClickHouseLogLevel.OFF },
  });
}

async function textOf(client: ClickHouseClient, sql: string, target: ServerTarget): Promise<string> {
  const r = await client.exec({ query: `${sql} FORMAT TabSeparated`, clickhouse_settings: settings(target) });
  let text = '';
  for await (const chunk of r.stream) text += chunk.toString();
  return text;
}

/**
 * The HTTP endpoint of every server in the cluster. Each candidate is asked which shard and replica
 * it is (`is_local` in system.clusters), so a wrong port mapping is caught here, not in a query.
 */
async function discoverNodes(entry: ClickHouseClient, target: ServerTarget): Promise<string[]> {
  const name = target.cluster as string;
  const members = (
    await textOf(
      entry,
      `SELECT shard_num, replica_num, host_name, port FROM system.clusters WHERE cluster = '${name}'`,
      target,
    )
  )
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));
  if (members.length === 0) {
    throw new UserError(
      `the server at ${target.url} defines no cluster "${name}"`,
      'See remote_servers in its config, and docs/cluster.md.',
    );
  }
  const entryPort = new URL(target.url).port;
  const candidates = target.nodes ?? [
    ...new Set(members.map((m) => `${new URL(target.url).protocol}//${m[2]}:${entryPort}`)),
  ];
  const found = new Map<string, string>();
  for (const url of candidates) {
    const c = makeClient(target, url, null);
    try {
      const local = await textOf(
        c,
        `SELECT shard_num, replica_num FROM system.clusters WHERE cluster = '${name}' AND is_local`,
        target,
      );
      for (const l of local.trim().split('\n').filter(Boolean)) if (!found.has(l)) found.set(l, url);
    } catch (err) {
      throw new UserError(
        `cluster ${name}: cannot reach ${url}: ${err instanceof Error ? err.message : String(err)}`,
        "List every server's HTTP endpoint with nodes=host:port,… in the engine URL.",
      );
    } finally {
      await c.close();
    }
  }
  const missing = members.filter((m) => !found.has(`${m[0]}\t${m[1]}`));
  if (missing.length > 0) {
    throw new UserError(
      `cluster ${name}: no HTTP endpoint found for ${missing.map((m) => `shard ${m[0]} replica ${m[1]} (${m[2]}:${m[3]})`).join(', ')}`,
      "List every server's HTTP endpoint with nodes=host:port,… in the engine URL.",
    );
  }
  const urls = [...new Set(found.values())];
  // The entry server first: it answers queries and holds the Distributed tables it created.
  return [target.url, ...urls.filter((u) => u !== target.url)];
}
