import type { Engine } from '../store/index.ts';
import { INSERT_SETTINGS, SqlParams, sqlForged } from './sql.ts';

/** The `events` columns any scope query reads (attribution, classification, the catalog's operation). */
const COLUMNS = [
  'event_id',
  'time',
  'class_uid',
  'activity_id',
  'status_id',
  'http_status',
  'actor_uid',
  'token_id',
  'key_id',
  'src_ip',
  'net_class',
  'country',
  'asn',
  'as_org',
  'user_agent',
  'operation',
  'http_method',
  'url_path',
  'subject_ids',
  'subject_types',
].join(', ');

/** Which rows of `events` a candidate table holds: every row meeting any of these. */
export interface Atoms {
  /** Every API call with a token the login service never issued (any key). */
  forgedCalls?: boolean;
  ips?: readonly string[];
  tokens?: readonly string[];
  actors?: readonly string[];
  subnets?: readonly string[];
  agents?: readonly string[];
}

type AtomLists = Required<Omit<Atoms, 'forgedCalls'>>;
const LISTS = ['ips', 'tokens', 'actors', 'subnets', 'agents'] as const;

/**
 * The few `events` rows a scope can ever look at, copied once into a small table so that the
 * rounds, the classification of addresses and the probable pass read it instead of the whole
 * store. It holds every row meeting one of its atoms (an address, a token, an account… or any
 * forged call); a query asks `ensure` for the atoms its condition implies before it runs, and a
 * missing one costs one more pass over `events` for just the rows not held yet. So every query
 * sees exactly the rows it would see in `events` that can meet its condition: the same answers.
 */
export class Candidates {
  private readonly covered: { forgedCalls: boolean } & { [K in keyof AtomLists]: Set<string> } = {
    forgedCalls: false,
    ips: new Set(),
    tokens: new Set(),
    actors: new Set(),
    subnets: new Set(),
    agents: new Set(),
  };
  private created = false;

  constructor(
    private readonly engine: Engine,
    readonly table: string,
    private readonly forgedTokens: string,
  ) {}

  /** A condition on an `events` row: it meets one of `atoms`. */
  private predicate(atoms: Atoms, p: SqlParams): string {
    const parts: string[] = [];
    if (atoms.forgedCalls) parts.push(sqlForged(this.forgedTokens));
    const d = this.engine.dialect;
    if (atoms.ips?.length) parts.push(p.inList('src_ip', atoms.ips, 'toIPv6'));
    if (atoms.tokens?.length) parts.push(p.inList('token_id', atoms.tokens));
    if (atoms.actors?.length) parts.push(p.inList('actor_uid', atoms.actors));
    if (atoms.subnets?.length) parts.push(p.inList(d.sqlSubnet('src_ip'), atoms.subnets));
    if (atoms.agents?.length) parts.push(p.inList('user_agent', atoms.agents));
    return parts.length === 0 ? '0' : parts.map((x) => `(${x})`).join(' OR ');
  }

  private coveredAtoms(): Atoms {
    const out: Atoms = { forgedCalls: this.covered.forgedCalls };
    for (const k of LISTS) out[k] = [...this.covered[k]];
    return out;
  }

  /**
   * The addresses of the rows meeting `atoms` (one pass over the cheap columns): the addresses a
   * round can find, so that one wide pass can copy every event at them too.
   */
  async addressesOf(atoms: Atoms): Promise<string[]> {
    const p = new SqlParams();
    const rows = await this.engine.query<{ ip: string }>(
      `SELECT ${this.engine.dialect.sqlIpToString('src_ip')} AS ip
       FROM (SELECT DISTINCT src_ip FROM events PREWHERE ${this.predicate(atoms, p)})`,
      p.values,
    );
    return rows.map((r) => r.ip);
  }

  /** Makes the table hold every `events` row meeting `atoms` (a pass over `events` only for what it lacks). */
  async ensure(atoms: Atoms): Promise<void> {
    const missing: Atoms = {};
    let any = false;
    if (atoms.forgedCalls && !this.covered.forgedCalls) {
      missing.forgedCalls = true;
      any = true;
    }
    for (const k of LISTS) {
      const lack = [...new Set(atoms[k] ?? [])].filter((x) => !this.covered[k].has(x));
      if (lack.length > 0) {
        missing[k] = lack;
        any = true;
      }
    }
    if (!this.created) {
      await this.engine.exec(
        `CREATE TABLE ${this.table} ENGINE = MergeTree ORDER BY tuple() AS SELECT ${COLUMNS} FROM events WHERE 0`,
      );
      this.created = true;
    }
    if (!any) return;
    const p = new SqlParams();
    const held = this.predicate(this.coveredAtoms(), p);
    const want = this.predicate(missing, p);
    await this.engine.exec(
      `INSERT INTO ${this.table} SELECT ${COLUMNS} FROM events
       PREWHERE (${want})${held === '0' ? '' : ` AND NOT (${held})`} ${INSERT_SETTINGS}`,
      p.values,
    );
    if (missing.forgedCalls) this.covered.forgedCalls = true;
    for (const k of LISTS) for (const x of missing[k] ?? []) this.covered[k].add(x);
  }

  async drop(): Promise<void> {
    await this.engine.exec(`DROP TABLE IF EXISTS ${this.table}`);
  }
}
