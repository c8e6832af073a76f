import type { Engine } from '../store/index.ts';
import type { EntityRef, Incident } from './domain.ts';

/** An address the incident involves, as the console lists it. */
export interface AddressInfo {
  ip: string;
  country: string;
  asn: number;
  as_org: string;
  net_class: string;
  events: number;
  first_seen: string;
  last_seen: string;
}

/** A signing key with who held it and whether they have left. */
export interface KeyInfo {
  key_id: string;
  purpose: string;
  created_on: string | null;
  retired_on: string | null;
  custodians: { person_id: string; left_on: string | null; department: string; role: string }[];
  /** True when any custodian has left while the key can still sign. */
  custodian_left: boolean;
}

export interface AccountInfo {
  actor: string;
  kind: 'person' | 'service' | 'unknown';
  person_id: string | null;
  department: string;
  role: string;
  left_on: string | null;
  owner_team: string;
}

export interface PersonInfo {
  person_id: string;
  department: string;
  role: string;
  country: string;
  left_on: string | null;
  principal_ids: string[];
}

export interface IncidentEntities {
  addresses: AddressInfo[];
  keys: KeyInfo[];
  accounts: AccountInfo[];
  people: PersonInfo[];
  /** Everything else (subnets, ASNs, tokens, user agents), as named by detection. */
  other: EntityRef[];
}

const json = (xs: string[]) => JSON.stringify(xs);
const arr = (name: string) => `JSONExtract({${name}:String}, 'Array(String)')`;

/** The incident's entities looked up in the events and the reference data, one query per kind. */
export async function incidentEntities(engine: Engine, incident: Incident): Promise<IncidentEntities> {
  const d = engine.dialect;
  const ids = (type: string) => [
    ...new Set(incident.entities.filter((e) => e.type === type).map((e) => e.id)),
  ];
  const ips = ids('ip');
  const keys = ids('key');
  const actors = [...ids('actor'), ...ids('service')];
  const persons = ids('person');
  const first = Date.parse(incident.first_seen) - 7 * 86400_000;
  const last = Date.parse(incident.last_seen || incident.first_seen) + 86400_000;

  const [addresses, keyRows, accounts, people] = await Promise.all([
    ips.length === 0
      ? Promise.resolve([] as AddressInfo[])
      : engine.query<AddressInfo>(
          `SELECT ${d.sqlIpToString('src_ip')} AS ip, any(country) AS country, any(asn) AS asn,
             any(as_org) AS as_org, any(net_class) AS net_class, count() AS events,
             toString(min(time)) AS first_seen, toString(max(time)) AS last_seen
           FROM events
           WHERE time >= ${d.sqlFromEpochMs('{lo:Int64}')} AND time < ${d.sqlFromEpochMs('{hi:Int64}')}
             AND src_ip IN (SELECT toIPv6(arrayJoin(${arr('ips')})))
           GROUP BY src_ip ORDER BY events DESC`,
          { ips: json(ips), lo: first, hi: last },
        ),
    keys.length === 0
      ? Promise.resolve([])
      : engine.query<{
          key_id: string;
          purpose: string;
          created_on: string | null;
          retired_on: string | null;
          custodian: string;
          left_on: string | null;
          department: string;
          role: string;
        }>(
          `SELECT k.key_id AS key_id, k.purpose AS purpose, toString(k.created_on) AS created_on,
             toString(k.retired_on) AS retired_on, c AS custodian, toString(p.left_on) AS left_on,
             p.department AS department, p.role AS role
           FROM (SELECT * FROM keys_current WHERE has(${arr('keys')}, key_id)) AS k
           LEFT ARRAY JOIN k.custodians AS c
           LEFT JOIN people_current AS p ON p.person_id = c
           ORDER BY key_id, custodian`,
          { keys: json(keys) },
        ),
    actors.length === 0
      ? Promise.resolve([] as AccountInfo[])
      : engine.query<AccountInfo>(
          `SELECT a AS actor,
             multiIf(p.person_id != '', 'person', s.principal_id != '', 'service', 'unknown') AS kind,
             if(p.person_id != '', p.person_id, NULL) AS person_id, p.department AS department, p.role AS role,
             toString(p.left_on) AS left_on, s.owner_team AS owner_team
           FROM (SELECT arrayJoin(${arr('actors')}) AS a) AS x
           LEFT JOIN principals_current AS p ON p.principal_id = x.a
           LEFT JOIN services_current AS s ON s.principal_id = x.a
           ORDER BY actor`,
          { actors: json(actors) },
        ),
    persons.length === 0
      ? Promise.resolve([] as PersonInfo[])
      : engine.query<PersonInfo>(
          `SELECT person_id, department, role, country, toString(left_on) AS left_on, principal_ids
           FROM people_current WHERE has(${arr('persons')}, person_id) ORDER BY person_id`,
          { persons: json(persons) },
        ),
  ]);

  const keyInfos = new Map<string, KeyInfo>();
  for (const r of keyRows) {
    let k = keyInfos.get(r.key_id);
    if (!k) {
      k = {
        key_id: r.key_id,
        purpose: r.purpose,
        created_on: nullDate(r.created_on),
        retired_on: nullDate(r.retired_on),
        custodians: [],
        custodian_left: false,
      };
      keyInfos.set(r.key_id, k);
    }
    if (r.custodian) {
      const left = nullDate(r.left_on);
      k.custodians.push({ person_id: r.custodian, left_on: left, department: r.department, role: r.role });
      if (left && (!k.retired_on || k.retired_on > left)) k.custodian_left = true;
    }
  }
  // Keys the inventory does not know are listed too: an unknown kid is itself a finding.
  for (const id of keys) {
    if (!keyInfos.has(id))
      keyInfos.set(id, {
        key_id: id,
        purpose: '(not in the key inventory)',
        created_on: null,
        retired_on: null,
        custodians: [],
        custodian_left: false,
      });
  }
  const shown = new Set(['ip', 'key', 'actor', 'service', 'person']);
  return {
    addresses,
    keys: [...keyInfos.values()],
    accounts: accounts.map((a) => ({ ...a, left_on: nullDate(a.left_on) })),
    people: people.map((p) => ({ ...p, left_on: nullDate(p.left_on) })),
    other: incident.entities.filter((e) => !shown.has(e.type)),
  };
}

/** ClickHouse prints a NULL Date through toString as '\N' or null; the console wants null. */
function nullDate(v: string | null | undefined): string | null {
  return v && v !== '\\N' && v !== '1970-01-01' ? v : null;
}
