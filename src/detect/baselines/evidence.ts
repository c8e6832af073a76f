import type { Engine } from '../../store/index.ts';
import type { EntityRef, EntityType } from '../detector.ts';
import { isoTime, sqlTime } from '../sql.ts';
import { STAFF, sqlEntityTuples, sqlSubnetKey } from './entities.ts';

/**
 * What a finding shows of the events behind it, for the entity and span it judged: counts, first
 * and last event, five example event ids (the earliest), a few addresses, agents, accounts and
 * the data categories read. One scan of the events for all findings of a call; orders are total,
 * so the same events always give the same evidence (a re-run stores no new version).
 */

export interface Wanted {
  /** Finding key, returned as is. */
  fid: string;
  type: string;
  id: string;
  from: number;
  to: number;
}

export interface Evidence {
  events: number;
  subjects: number;
  first_seen: string;
  last_seen: string;
  example_event_ids: string[];
  ips: string[];
  user_agents: string[];
  accounts: string[];
  accounts_total: number;
  asns: string[];
  subnets: string[];
  countries: string[];
  categories: string[];
}

export async function gatherEvidence(
  engine: Engine,
  categoriesSql: string,
  wanted: readonly Wanted[],
): Promise<Map<string, Evidence>> {
  const out = new Map<string, Evidence>();
  if (wanted.length === 0) return out;
  const d = engine.dialect;
  const lo = Math.min(...wanted.map((w) => w.from));
  const hi = Math.max(...wanted.map((w) => w.to));
  // Cheap column tests first, so the entity tuples are built only for rows that can match.
  const ids = (type: string) =>
    JSON.stringify([...new Set(wanted.filter((w) => w.type === type).map((w) => w.id))]);
  const list = (param: string) => `(SELECT arrayJoin(JSONExtract({${param}:String}, 'Array(String)')))`;
  const prefilter = [
    `e.actor_uid IN ${list('actors')}`,
    `e.actor_uid IN (SELECT principal_id FROM principals_current WHERE person_id IN ${list('persons')})`,
    `e.src_ip IN (SELECT ${d.sqlIpFromString('x')} FROM (SELECT arrayJoin(JSONExtract({ips:String}, 'Array(String)')) AS x))`,
    `e.asn IN (SELECT toUInt32OrZero(substring(arrayJoin(JSONExtract({asns:String}, 'Array(String)')), 3)))`,
    `toString(e.user_agent) IN ${list('uas')}`,
    // Subnets as CIDR text: compared as masked bytes, so no row's address is formatted as text.
    `${sqlSubnetKey('e.src_ip')} IN (SELECT ${sqlSubnetKey(d.sqlIpFromString("splitByChar('/', x)[1]"))} FROM (SELECT arrayJoin(JSONExtract({subnets:String}, 'Array(String)')) AS x))`,
  ].join(' OR ');
  const rows = await engine.query<{
    fid: string;
    events: number;
    subjects: number;
    first: string;
    last: string;
    ex: string[];
    ips: string[];
    uas: string[];
    accounts: string[];
    accounts_total: number;
    asns: string[];
    subnets: string[];
    countries: string[];
    cats: string[];
  }>(
    `SELECT ww.w.1 AS fid, count() AS events, uniqExactArray(x.subj) AS subjects,
       min(x.time) AS first, max(x.time) AS last,
       arrayMap(v -> v.2, groupArraySorted(5)((x.time, x.event_id))) AS ex,
       sumMap([x.ip], [toUInt64(1)]) AS ip_counts,
       arrayMap(v -> v.1, arraySlice(arraySort(v -> (-v.2, v.1), arrayZip(ip_counts.1, ip_counts.2)), 1, 5)) AS ips,
       arraySlice(arraySort(groupUniqArray(x.ua)), 1, 3) AS uas,
       arraySlice(arraySort(groupUniqArray(x.actor_uid)), 1, 5) AS accounts,
       uniqExact(x.actor_uid) AS accounts_total,
       arraySlice(arraySort(groupUniqArray(x.asn)), 1, 3) AS asns,
       arraySlice(arraySort(groupUniqArray(x.subnet)), 1, 3) AS subnets,
       arraySort(groupUniqArray(x.country)) AS countries,
       arraySort(groupUniqArrayArray(x.cats)) AS cats
     FROM (
       SELECT e.time AS time, e.event_id AS event_id, e.actor_uid AS actor_uid,
         if(e.class_uid = 3002, [e.actor_uid], e.subject_ids) AS subj,
         ${d.sqlIpToString('e.src_ip')} AS ip, ${d.sqlSubnet('e.src_ip')} AS subnet, toString(e.user_agent) AS ua,
         if(e.asn = 0, '', concat('AS', toString(e.asn))) AS asn, toString(e.country) AS country,
         ${categoriesSql} AS cats, concat(t.1, '|', t.2) AS k
       FROM events AS e LEFT JOIN ${STAFF} AS s ON e.actor_uid = s.principal_id
       ARRAY JOIN ${sqlEntityTuples(d)} AS t
       WHERE e.time >= {lo:DateTime64(3, 'UTC')} AND e.time < {hi:DateTime64(3, 'UTC')}
         AND (${prefilter})
         AND concat(t.1, '|', t.2) IN (SELECT arrayJoin(JSONExtract({keys:String}, 'Array(String)')))
     ) AS x
     INNER JOIN (SELECT arrayJoin(JSONExtract({wanted:String}, 'Array(Tuple(String, String, Int64, Int64))')) AS w) AS ww
       ON x.k = ww.w.2
     WHERE ${d.sqlEpochMs('x.time')} >= ww.w.3 AND ${d.sqlEpochMs('x.time')} < ww.w.4
     GROUP BY fid`,
    {
      lo: sqlTime(new Date(lo)),
      hi: sqlTime(new Date(hi)),
      keys: JSON.stringify([...new Set(wanted.map((w) => `${w.type}|${w.id}`))]),
      actors: ids('actor'),
      persons: ids('person'),
      ips: ids('ip'),
      asns: ids('asn'),
      uas: ids('user_agent'),
      subnets: ids('subnet'),
      wanted: JSON.stringify(wanted.map((w) => [w.fid, `${w.type}|${w.id}`, w.from, w.to])),
    },
  );
  for (const r of rows) {
    out.set(r.fid, {
      events: Number(r.events),
      subjects: Number(r.subjects),
      first_seen: isoTime(r.first),
      last_seen: isoTime(r.last),
      example_event_ids: r.ex,
      ips: r.ips.filter(Boolean),
      user_agents: r.uas.filter(Boolean),
      accounts: r.accounts.filter(Boolean),
      accounts_total: Number(r.accounts_total),
      asns: r.asns.filter(Boolean),
      subnets: r.subnets.filter(Boolean),
      countries: r.countries.filter(Boolean),
      categories: r.cats,
    });
  }
  return out;
}

/**
 * Entities a finding links to, bounded. Customer accounts are never listed (they would glue
 * unrelated incidents through their victims), nor signing keys (every customer token shares one).
 */
export function relatedOf(entity: EntityRef, ev: Evidence | undefined, personOf?: string): EntityRef[] {
  if (!ev) return [];
  const out: EntityRef[] = [];
  const add = (type: EntityType, ids: readonly string[], n: number) => {
    for (const id of ids.slice(0, n))
      if (id && !(type === entity.type && id === entity.id)) out.push({ type, id });
  };
  if (entity.type === 'actor' || entity.type === 'person') {
    if (personOf) add('person', [personOf], 1);
    if (entity.type === 'person') add('actor', ev.accounts, 3);
    add('ip', ev.ips, 5);
  } else {
    add('ip', ev.ips, 3);
    add('subnet', ev.subnets, 2);
    add('asn', ev.asns, 2);
    add('user_agent', ev.user_agents, 2);
  }
  return out.slice(0, 12);
}

export interface StaffGroup {
  group: string;
  person: string;
  service: boolean;
}

/**
 * The whole roster's groups, per engine, with the newest roster load they were read at: every
 * detector asks for them on every call, and they change only when people or services are loaded.
 */
const rosters = new WeakMap<Engine, { load: number; groups: Map<string, StaffGroup> }>();

/** Peer group of staff accounts and people (role in a country), and whether an account is a service. */
export async function staffGroups(engine: Engine, ids: readonly string[]): Promise<Map<string, StaffGroup>> {
  const out = new Map<string, StaffGroup>();
  if (ids.length === 0) return out;
  // The newest people or services rows (written before their load is recorded, so never missed).
  const [{ load } = { load: 0 }] = await engine.query<{ load: number }>(
    'SELECT greatest((SELECT max(load_seq) FROM people), (SELECT max(load_seq) FROM services)) AS load',
  );
  let roster = rosters.get(engine);
  if (!roster || roster.load !== Number(load)) {
    roster = { load: Number(load), groups: await readRoster(engine) };
    rosters.set(engine, roster);
  }
  for (const id of ids) {
    const g = roster.groups.get(id);
    if (g) out.set(id, g);
  }
  return out;
}

async function readRoster(engine: Engine): Promise<Map<string, StaffGroup>> {
  const rows = await engine.query<{ id: string; grp: string; person: string; service: number }>(
    `SELECT principal_id AS id, concat('role:', any(department), '/', any(role), '/', any(country)) AS grp,
       any(person_id) AS person, 0 AS service FROM principals_current GROUP BY principal_id
     UNION ALL
     SELECT person_id AS id, concat('role:', department, '/', role, '/', country) AS grp, person_id AS person, 0 AS service
     FROM people_current
     UNION ALL
     SELECT principal_id AS id, concat('service:', principal_id) AS grp, '' AS person, 1 AS service FROM services_current`,
  );
  // Services last, so an account listed both as a person's and as a service counts as a service.
  rows.sort((a, b) => Number(a.service) - Number(b.service));
  const out = new Map<string, StaffGroup>();
  for (const r of rows) out.set(r.id, { group: r.grp, person: r.person, service: Number(r.service) === 1 });
  return out;
}
