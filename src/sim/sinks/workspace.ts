import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadIpDatabase, sqlEnrichAddresses } from '../../sources/enrich/index.ts';
import { emptyCounts, type IngestCounts } from '../../sources/index.ts';
import { EVENT_COLUMNS } from '../../sources/ocsf/parse.ts';
import { type Engine, recordBatchTokens, recordDerivedTokens } from '../../store/index.ts';
import { DAY, parseDate } from '../clock.ts';
import type { EventSink } from '../sink.ts';
import type { ScenarioTruth } from '../truth.ts';
import type { World } from '../world.ts';
import {
  avoidList,
  COPY_BLOCK_ROWS,
  type ReplicaPlan,
  replicaInsertSql,
  replicaLabel,
  replicaTokenSql,
} from './replicate.ts';
import { ROW_STRUCTURE } from './rows.ts';

export interface WorkspaceSinkProgress {
  day: string;
  daysDone: number;
  /** Rows stored so far: base (ingested) and copies. */
  baseRows: number;
  replicaRows: number;
}

export interface WorkspaceSinkOptions {
  /** Total shards including the base; 1 stores the base alone. */
  shards: number;
  /** Called once the cast is known and before any event (e.g. to load reference data). */
  onBegin?: (world: World, truths: readonly ScenarioTruth[]) => Promise<void>;
  onProgress?: (p: WorkspaceSinkProgress) => void;
  /**
   * Stop the events table's background merges during the load (default true): they took ~40% of
   * the load's CPU (~1 µs an event), all of it on parts that later merges rewrite anyway. They
   * resume at close (or once DEFERRED_PARTS_LIMIT active parts pile up) and run in the background.
   */
  deferMerges?: boolean;
  /**
   * A day's rows up to this size are read from their file once into memory; a larger day is read
   * from the file by each pass, so a base of millions of customers does not hold a day in memory
   * (default STAGE_IN_MEMORY_BYTES).
   */
  stageInMemoryBytes?: number;
}

/** Past this many active parts merges resume mid-load: inserts slow down and then fail near 1,000–3,000. */
export const DEFERRED_PARTS_LIMIT = 600;

export const STAGE_IN_MEMORY_BYTES = 256 << 20;

/**
 * The engine maps a file() input into memory by default: a day file of gigabytes then counts in
 * full in the process's resident memory. Reading it in pieces keeps memory bounded.
 */
const PREAD = `SETTINGS storage_file_read_method = 'pread'`;

interface DayFile {
  day: string;
  file: string;
  label: string;
  fd: number;
}

/**
 * Writes simulated events straight into a workspace's `events` table.
 *
 * Each UTC day's events go to a temporary file as typed TabSeparated rows (`rows.ts`: exactly the
 * columns the OCSF parser extracts from the JSON lines, duplicate deliveries counted but left out),
 * which the engine reads without parsing JSON, enriches and stores with a line in the ingest
 * ledger, so a base run stores what ingesting the JSON output would (`workspace.test.ts` compares
 * every column with the parser's). Then that day's benign rows are copied into
 * shards 1 … K−1 by one INSERT … SELECT (see `replicate.ts`). While the engine works on day d
 * (in its own thread), JavaScript generates day d+1; at most one day waits.
 */
export class WorkspaceSink implements EventSink {
  private readonly dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-sim-'));
  private readonly attackTable = `_sim_attack_${process.pid}_${Date.now().toString(36)}`;
  /** Attack event id → scenario, for the whole run. */
  readonly attacks = new Map<string, string>();
  private unassigned: [string, string][] = [];
  private dayAttacks: [string, string][] = [];
  private current: DayFile | null = null;
  private working: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  private plan: ReplicaPlan | null = null;
  private readonly dayDuplicates = new Map<string, number>();
  private stageSeq = 0;
  /** Each stored day's batch in the token ledger, by its label: its copies derive theirs from it. */
  private readonly batchOf = new Map<string, string>();
  private daysDone = 0;
  readonly counts: IngestCounts = emptyCounts();
  replicaRows = 0;
  private mergesStopped = false;

  constructor(
    private readonly engine: Engine,
    private readonly opts: WorkspaceSinkOptions,
  ) {}

  async begin(world: World, truths: readonly ScenarioTruth[]): Promise<void> {
    await this.opts.onBegin?.(world, truths);
    const attackers = truths.flatMap((t) => (t.toJson().attacker as { type: string; id: string }[]) ?? []);
    const attackerActors = new Set(attackers.filter((a) => a.type === 'actor').map((a) => a.id));
    this.plan = {
      shards: this.opts.shards,
      baseCustomers: world.customers.length,
      baseRecipients: world.customers.recipients,
      services: world.services.map((s) => s.principal).filter((p) => !attackerActors.has(p)),
      avoidIps: attackers.filter((a) => a.type === 'ip').map((a) => a.id),
    };
    await loadIpDatabase(this.engine);
    if (this.opts.deferMerges ?? true) {
      await this.engine.exec('SYSTEM STOP MERGES events');
      this.mergesStopped = true;
    }
    await this.engine.exec(
      `CREATE TABLE ${this.attackTable} (event_id String, scenario String) ENGINE = Memory`,
    );
  }

  readonly encoding = 'rows' as const;

  duplicates(day: string, n: number): void {
    this.dayDuplicates.set(day, (this.dayDuplicates.get(day) ?? 0) + n);
  }

  attack(eventId: string, scenario: string): void {
    this.attacks.set(eventId, scenario);
    this.unassigned.push([eventId, scenario]);
  }

  async write(day: string, lines: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    if (day !== this.current?.day) {
      await this.endDay();
      const file = path.join(this.dir, `${day}.tsv`);
      this.current = { day, file, label: `events/${day}.jsonl`, fd: openSync(file, 'w') };
    }
    // The stream names a chunk's attack events just before writing it: they belong to this day.
    for (const a of this.unassigned) this.dayAttacks.push(a);
    this.unassigned = [];
    let done = 0;
    while (done < lines.length) done += writeSync(this.current.fd, lines, done, lines.length - done);
  }

  /** Closes the day's file and hands it to the engine once the previous day is done. */
  private async endDay(): Promise<void> {
    const done = this.current;
    if (!done) return;
    closeSync(done.fd);
    this.current = null;
    const attacks = this.dayAttacks;
    this.dayAttacks = [];
    await this.working;
    if (this.failure) throw this.failure;
    this.working = this.storeDay(done, attacks).catch((err: unknown) => {
      this.failure ??= err;
    });
  }

  private async storeDay(day: DayFile, attacks: [string, string][]): Promise<void> {
    const engine = this.engine;
    const duplicates = this.dayDuplicates.get(day.day) ?? 0;
    this.dayDuplicates.delete(day.day);
    const stored = await this.storeRows(day, duplicates);
    this.counts.read += stored + duplicates;
    this.counts.stored += stored;
    this.counts.duplicates += duplicates;
    rmSync(day.file, { force: true });
    if (attacks.length > 0) {
      await engine.insert(
        this.attackTable,
        attacks.map(([event_id, scenario]) => ({ event_id, scenario })),
      );
    }
    const plan = this.plan;
    if (plan && plan.shards > 1) await this.replicate(plan, day);
    if (this.mergesStopped) {
      const [parts] = await engine.query<{ n: number }>(
        `SELECT count() AS n FROM system.parts WHERE database = currentDatabase() AND table = 'events' AND active`,
      );
      if ((parts?.n ?? 0) >= DEFERRED_PARTS_LIMIT) await this.resumeMerges();
    }
    this.daysDone++;
    this.opts.onProgress?.({
      day: day.day,
      daysDone: this.daysDone,
      baseRows: this.counts.stored,
      replicaRows: this.replicaRows,
    });
  }

  /**
   * Stores a day of typed rows (`rows.ts`) as ingesting its JSON lines would: the same columns,
   * addresses enriched once per distinct address, a line in the ingest ledger. Ids are unique by
   * construction (duplicate deliveries were left out and are only counted), so no lookup by id.
   */
  private async storeRows(day: DayFile, duplicates: number): Promise<number> {
    const engine = this.engine;
    const started = Date.now();
    const stage = `_sim_rows_${process.pid}_${++this.stageSeq}`;
    const bytes = statSync(day.file).size;
    const inMemory = bytes <= (this.opts.stageInMemoryBytes ?? STAGE_IN_MEMORY_BYTES);
    const rows = inMemory ? stage : `file({file:String}, 'TabSeparated', {structure:String})`;
    const file = { file: day.file, structure: ROW_STRUCTURE };
    try {
      if (inMemory) {
        await engine.exec(`CREATE TABLE ${stage} (${ROW_STRUCTURE}) ENGINE = Memory`);
        await engine.exec(
          `INSERT INTO ${stage} SELECT * FROM file({file:String}, 'TabSeparated', {structure:String}) ${PREAD}`,
          file,
        );
      }
      await engine.exec(
        `CREATE TABLE ${stage}_addr ENGINE = Memory AS
         ${sqlEnrichAddresses(`SELECT DISTINCT toIPv6(src_ip) AS ip FROM ${rows}`)} ${PREAD}`,
        file,
      );
      const computed: Record<string, string> = {
        time: `fromUnixTimestamp64Milli(s.time_ms, 'UTC')`,
        issuer: `''`,
        src_ip: 'toIPv6(s.src_ip)',
        reported_country: `''`,
        reported_asn: 'toUInt32(0)',
        subject_types: 'arrayMap(t -> lower(t), s.subject_types)',
        http_method: 'upper(s.http_method)',
        source_file: '{label:String}',
        ingested_at: 'now()',
      };
      const columns = [...EVENT_COLUMNS, 'unmapped', 'country', 'asn', 'as_org', 'net_class'];
      const enriched: Record<string, string> = {
        unmapped: `''`,
        country: 'a.country',
        asn: 'a.asn',
        as_org: 'a.as_org',
        net_class: 'a.net_class',
      };
      const select = columns.map((c) => enriched[c] ?? computed[c] ?? `s.${c}`);
      // A day read from its file is read by one thread: with two, parsing, the address join and two
      // writers in flight took a 3 M-customer day (33 M events) to 2.18 GB RSS; with one, 1.68 GB.
      await engine.exec(
        `INSERT INTO events (${columns.join(', ')})
         SELECT ${select.join(', ')}
         FROM ${rows} AS s LEFT JOIN ${stage}_addr AS a ON toIPv6(s.src_ip) = a.ip
         ${PREAD}, join_use_nulls = 0, ${inMemory ? 'max_insert_threads = 2' : 'max_insert_threads = 1, max_threads = 1'},
           min_insert_block_size_rows = ${COPY_BLOCK_ROWS}, min_insert_block_size_bytes = ${COPY_BLOCK_ROWS * 256}`,
        { label: day.label, ...file },
      );
      const [row] = await engine.query<{ n: number; lo: string; hi: string }>(
        `SELECT count() AS n, toString(fromUnixTimestamp64Milli(min(time_ms), 'UTC')) AS lo,
           toString(fromUnixTimestamp64Milli(max(time_ms), 'UTC')) AS hi FROM ${rows} ${PREAD}`,
        file,
      );
      const stored = row?.n ?? 0;
      const id = randomUUID();
      await engine.insert('ingests', [
        {
          ingest_id: id,
          source_file: day.label,
          bytes,
          read: stored + duplicates,
          stored,
          quarantined: 0,
          duplicates,
          min_time: row?.lo ?? '1970-01-01 00:00:00',
          max_time: row?.hi ?? '1970-01-01 00:00:00',
          started_at: Math.floor(started / 1000),
          seconds: (Date.now() - started) / 1000,
        },
      ]);
      // The day's unmatched tokens, for the scope (src/store/ledger.ts); its copies derive theirs.
      await recordBatchTokens(engine, {
        id,
        rows: `(SELECT class_uid, token_id FROM ${rows} ${PREAD})`,
        params: file,
        events: stored,
        lo: row?.lo ?? '1970-01-01 00:00:00',
        hi: row?.hi ?? '1970-01-01 00:00:00',
      });
      this.batchOf.set(day.label, id);
      return stored;
    } finally {
      await engine.exec(`DROP TABLE IF EXISTS ${stage}`);
      await engine.exec(`DROP TABLE IF EXISTS ${stage}_addr`);
    }
  }

  private async replicate(plan: ReplicaPlan, day: DayFile): Promise<void> {
    const started = Date.now();
    // Stored times may sit a little outside their UTC day (a gateway node's clock is off).
    const start = parseDate(day.day);
    const params = {
      label: day.label,
      replica: replicaLabel(day.label),
      lo: toSqlTime(start - DAY / 24),
      hi: toSqlTime(start + DAY + DAY / 24),
      services: [...plan.services],
      avoid: avoidList(plan.avoidIps),
    };
    // Shards in groups of about COPY_BLOCK_ROWS rows per statement: one ARRAY JOIN over all of
    // them would hold base rows × shards in memory at once.
    const [base] = await this.engine.query<{ n: number }>(
      `SELECT count() AS n FROM events WHERE time >= {lo:DateTime64(3, 'UTC')} AND time < {hi:DateTime64(3, 'UTC')}
         AND source_file = {label:String}`,
      params,
    );
    const perGroup = Math.max(1, Math.floor((16 * COPY_BLOCK_ROWS) / Math.max(1, base?.n ?? 1)));
    for (let first = 1; first < plan.shards; first += perGroup) {
      const last = Math.min(plan.shards - 1, first + perGroup - 1);
      await this.engine.exec(replicaInsertSql(plan, this.attackTable, last - first + 1), {
        ...params,
        first,
        last,
      });
    }
    const [row] = await this.engine.query<{ n: number; lo: string; hi: string }>(
      `SELECT count() AS n, toString(min(time)) AS lo, toString(max(time)) AS hi FROM events
       WHERE time >= {lo:DateTime64(3, 'UTC')} AND time < {hi:DateTime64(3, 'UTC')} AND source_file = {replica:String}`,
      params,
    );
    const n = row?.n ?? 0;
    this.replicaRows += n;
    const id = randomUUID();
    // The copies get their own line in the ingest ledger, so `vigil status` reconciles.
    await this.engine.insert('ingests', [
      {
        ingest_id: id,
        source_file: params.replica,
        bytes: 0,
        read: n,
        stored: n,
        quarantined: 0,
        duplicates: 0,
        min_time: row?.lo ?? '1970-01-01 00:00:00',
        max_time: row?.hi ?? '1970-01-01 00:00:00',
        started_at: Math.floor(started / 1000),
        seconds: (Date.now() - started) / 1000,
      },
    ]);
    // A copy's token is unmatched exactly when its base token is (issuances are copied with their
    // calls), so the copies' ledger is the base day's, renamed per shard.
    await recordDerivedTokens(
      this.engine,
      { id, events: n },
      `SELECT ${replicaTokenSql('token_id', 'shard')} AS token_id FROM unmatched_tokens
       ARRAY JOIN range(1, {shards:UInt32}) AS shard WHERE batch = {base:String}`,
      { shards: plan.shards, base: this.batchOf.get(day.label) ?? '' },
    );
  }

  async close(): Promise<void> {
    try {
      await this.endDay();
      await this.working;
      if (this.failure) throw this.failure;
    } finally {
      await this.dispose();
    }
  }

  private async resumeMerges(): Promise<void> {
    if (!this.mergesStopped) return;
    this.mergesStopped = false;
    await this.engine.exec('SYSTEM START MERGES events');
  }

  /** Removes the temporary files and table; safe to call again, and after a failed run. */
  async dispose(): Promise<void> {
    if (this.current) closeSync(this.current.fd);
    this.current = null;
    await this.working;
    await this.resumeMerges();
    await this.engine.exec(`DROP TABLE IF EXISTS ${this.attackTable}`);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function toSqlTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}
