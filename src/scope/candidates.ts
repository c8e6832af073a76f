import type { Engine } from '../store/index.ts';
import { INSERT_SETTINGS, SqlParams, sqlForged, sqlForgedHash } from './sql.ts';

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
  /**
   * Rows at an address by given accounts only: a carrier address's rows are many people's, and
   * only those of the accounts the attacker used there can ever be attributed (probable).
   */
  pairs?: readonly Pair[];
}

/** An address and accounts: the rows at `ip` whose actor is one of `actors`. */
export interface Pair {
  ip: string;
  actors: readonly string[];
}

/** What the held rows show of one address: its network class and, at a carrier address, the forged calls' accounts. */
export interface SeenAddress {
  ip: string;
  cls: string;
  actors: string[];
}

type AtomLists = Required<Omit<Atoms, 'forgedCalls' | 'pairs'>>;
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
  /** Pairs held, as `ip\u0000actor` (an address held whole holds all of its pairs). */
  private readonly coveredPairs = new Set<string>();
  /** Network class of the addresses seen so far (the class their rows carry). */
  readonly netClass = new Map<string, string>();
  private created = false;
  readonly table: string;

  /**
   * `direct`: read `events` itself (no copy): on a small store a pass over it costs less than
   * copying, and the few queries of a scope each read it once.
   */
  constructor(
    private readonly engine: Engine,
    table: string,
    private readonly forgedTokens: string,
    readonly direct = false,
  ) {
    this.table = direct ? 'events' : table;
  }

  /**
   * A condition on an `events` row: it meets one of `atoms`. With `hashed`, a superset: forged
   * calls by their token's hash only (see `sqlForgedHash`), pairs by their address only.
   */
  private predicate(atoms: Atoms, p: SqlParams, hashed = false): string {
    const parts: string[] = [];
    if (atoms.forgedCalls) parts.push((hashed ? sqlForgedHash : sqlForged)(this.forgedTokens));
    const d = this.engine.dialect;
    if (atoms.ips?.length) parts.push(p.inList('src_ip', atoms.ips, 'toIPv6'));
    if (atoms.tokens?.length) parts.push(p.inList('token_id', atoms.tokens));
    if (atoms.actors?.length) parts.push(p.inList('actor_uid', atoms.actors));
    if (atoms.subnets?.length) parts.push(p.inList(d.sqlSubnet('src_ip'), atoms.subnets));
    if (atoms.agents?.length) parts.push(p.inList('user_agent', atoms.agents));
    // Address first, then the account: the (string) account set is only probed at that address.
    // (A tuple (src_ip, actor_uid) IN … hashes every row's pair and made the copy 3x dearer.) The
    // superset tests the address alone, so that the accounts are read in the exact step only.
    for (const { ip, actors } of atoms.pairs ?? [])
      if (actors.length > 0) {
        const at = `src_ip = toIPv6(${p.bind(ip, 'String')})`;
        parts.push(hashed ? at : `${at} AND ${p.inList('actor_uid', actors)}`);
      }
    return parts.length === 0 ? '0' : parts.map((x) => `(${x})`).join(' OR ');
  }

  private coveredAtoms(): Atoms {
    const out: Atoms = { forgedCalls: this.covered.forgedCalls };
    for (const k of LISTS) out[k] = [...this.covered[k]];
    const byIp = new Map<string, string[]>();
    for (const key of this.coveredPairs) {
      const [ip, actor] = key.split('\u0000') as [string, string];
      if (this.covered.ips.has(ip)) continue;
      byIp.set(ip, [...(byIp.get(ip) ?? []), actor]);
    }
    out.pairs = [...byIp].map(([ip, actors]) => ({ ip, actors }));
    return out;
  }

  /**
   * The addresses of the held rows meeting `atoms` (read from the table, so `atoms` must be held):
   * the addresses a round can find, whose rows are copied next. With each, the network class its
   * rows carry and, for forged calls of a shared (carrier) class, their accounts: a carrier address
   * is judged by its class alone, and only its rows of the accounts the attacker used there can be
   * attributed (any account found later is fetched then).
   */
  async addressesOf(atoms: Atoms, sharedClasses: readonly string[]): Promise<SeenAddress[]> {
    const p = new SqlParams();
    const d = this.engine.dialect;
    const shared = p.inList('net_class', sharedClasses);
    const rows = await this.engine.query<SeenAddress>(
      `SELECT ${d.sqlIpToString('src_ip')} AS ip, anyIf(net_class, net_class != '') AS cls,
         groupUniqArrayIf(actor_uid, ${shared} AND ${sqlForged(this.forgedTokens)}) AS actors
       FROM ${this.table} PREWHERE ${this.predicate(atoms, p)} GROUP BY src_ip`,
      p.values,
    );
    for (const r of rows) this.netClass.set(r.ip, r.cls);
    return rows;
  }

  /**
   * Network class of addresses whose class is not known yet (a narrow pass over `events`, on the
   * address alone: its skip index passes over the granules without them).
   */
  async classify(ips: readonly string[]): Promise<void> {
    const unknown = [...new Set(ips)].filter((ip) => !this.netClass.has(ip));
    if (unknown.length === 0) return;
    const p = new SqlParams();
    const rows = await this.engine.query<{ ip: string; cls: string }>(
      `SELECT ${this.engine.dialect.sqlIpToString('src_ip')} AS ip, anyIf(net_class, net_class != '') AS cls
       FROM events PREWHERE ${p.inList('src_ip', unknown, 'toIPv6')} GROUP BY src_ip`,
      p.values,
    );
    for (const r of rows) this.netClass.set(r.ip, r.cls);
  }

  /** Makes the table hold every `events` row meeting `atoms` (a pass over `events` only for what it lacks). */
  async ensure(atoms: Atoms): Promise<void> {
    if (this.direct) return;
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
    const lackPairs: Pair[] = [];
    for (const { ip, actors } of atoms.pairs ?? []) {
      if (this.covered.ips.has(ip) || missing.ips?.includes(ip)) continue;
      const lack = [...new Set(actors)].filter((a) => !this.coveredPairs.has(`${ip}\u0000${a}`));
      if (lack.length > 0) lackPairs.push({ ip, actors: lack });
    }
    if (lackPairs.length > 0) {
      missing.pairs = lackPairs;
      any = true;
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
    let want = this.predicate(missing, p);
    // Only addresses missing: a first test on the address alone, so the engine reads the other
    // columns (for the accounts and what is held) only where a row is at one of them.
    const onlyAddresses = LISTS.every((k) => k === 'ips' || !missing[k]?.length) && !missing.forgedCalls;
    if (onlyAddresses) {
      const ips = [...new Set([...(missing.ips ?? []), ...(missing.pairs ?? []).map((x) => x.ip)])];
      want = `${p.inList('src_ip', ips, 'toIPv6')} AND (${want})`;
    } else if (missing.forgedCalls) {
      // The same atoms with forged calls by token hash first: a cheap superset as its own step.
      want = `(${this.predicate(missing, p, true)}) AND (${want})`;
    }
    await this.engine.exec(
      `INSERT INTO ${this.table} SELECT ${COLUMNS} FROM events
       PREWHERE (${want})${held === '0' ? '' : ` AND NOT (${held})`} ${INSERT_SETTINGS}`,
      p.values,
    );
    if (missing.forgedCalls) this.covered.forgedCalls = true;
    for (const k of LISTS) for (const x of missing[k] ?? []) this.covered[k].add(x);
    for (const { ip, actors } of missing.pairs ?? [])
      for (const a of actors) this.coveredPairs.add(`${ip}\u0000${a}`);
  }

  async drop(): Promise<void> {
    if (this.direct || !this.created) return;
    await this.engine.exec(`DROP TABLE IF EXISTS ${this.table}`);
  }
}
