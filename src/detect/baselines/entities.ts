import type { Dialect } from '../../store/index.ts';

/**
 * The entities the behavioural detectors follow, and how each is read from an `events` row: staff
 * principals (employees' accounts and services) per account and per person; everything else
 * (customer tokens, unknown accounts) per address, /24 subnet, ASN and user agent; and the whole
 * `site`.
 */

/** Staff principals (employees' accounts and services); everything else is customer-side traffic. */
export const STAFF = `(SELECT principal_id, max(person_id) AS person_id, max(is_service) AS is_service FROM (
    SELECT principal_id, person_id, toUInt8(0) AS is_service FROM principals_current
    UNION ALL SELECT principal_id, '' AS person_id, toUInt8(1) AS is_service FROM services_current)
  GROUP BY principal_id)`;

/** The people an event touches: the records it read, or for a login the account tried. */
export const SUBJECTS = 'if(e.class_uid = 3002, [e.actor_uid], e.subject_ids)';

export type EntityKindName = 'site' | 'actor' | 'person' | 'ip' | 'subnet' | 'asn' | 'user_agent';

export interface EntityKind {
  type: EntityKindName;
  /** Whose events count: staff principals' own, customer-side (everything else), or every event. */
  side: 'staff' | 'customer' | 'all';
  /** Grouping key over the row `e` (staff kinds also see `s`, the principal's STAFF row). */
  key: string;
  /** Rows without a value for the key are not about an entity of this kind. */
  present?: string;
  /** The entity id as findings show it, from the grouped key `k`. */
  id: (d: Dialect, k: string) => string;
  /** The row's class: network class for addresses, `service`/`employee` for staff. */
  klass: string;
}

/**
 * The /24 (IPv4) or /48 (IPv6) of an address as 16 bytes, the host part overwritten: cheap to group
 * by and to compare (no text per row), and `Dialect.sqlSubnet` reads it back as CIDR text.
 */
export function sqlSubnetKey(ipExpr: string): string {
  const bytes = `reinterpretAsString(${ipExpr})`;
  return `if(startsWith(${bytes}, unhex('00000000000000000000FFFF')),
    concat(substring(${bytes}, 1, 15), unhex('01')), concat(substring(${bytes}, 1, 6), unhex('01010101010101010101')))`;
}

export const ENTITY_KINDS: Record<EntityKindName, EntityKind> = {
  site: { type: 'site', side: 'all', key: "''", id: () => "''", klass: "''" },
  actor: {
    type: 'actor',
    side: 'staff',
    key: 'e.actor_uid',
    id: (_d, k) => k,
    klass: "if(s.is_service = 1, 'service', 'employee')",
  },
  person: {
    type: 'person',
    side: 'staff',
    key: 's.person_id',
    present: "s.person_id != ''",
    id: (_d, k) => k,
    klass: "'employee'",
  },
  ip: {
    type: 'ip',
    side: 'customer',
    key: 'e.src_ip',
    id: (d, k) => d.sqlIpToString(k),
    klass: 'toString(e.net_class)',
  },
  subnet: {
    type: 'subnet',
    side: 'customer',
    key: sqlSubnetKey('e.src_ip'),
    id: (d, k) => d.sqlSubnet(`toFixedString(${k}, 16)`),
    klass: 'toString(e.net_class)',
  },
  asn: {
    type: 'asn',
    side: 'customer',
    key: 'e.asn',
    present: 'e.asn != 0',
    id: (_d, k) => `concat('AS', toString(${k}))`,
    klass: 'toString(e.net_class)',
  },
  user_agent: {
    type: 'user_agent',
    side: 'customer',
    key: 'e.user_agent',
    present: "e.user_agent != ''",
    id: (_d, k) => `toString(${k})`,
    klass: "''",
  },
};

export interface PerEntityQuery {
  /** Grouping column besides the entity (the hour, the window): its name and expression over `e`. */
  by: [name: string, expr: string];
  /** Columns computed per group, the same names for every kind: [name, aggregate over `e`]. */
  aggregates: (kind: EntityKind) => [name: string, expr: string][];
  /** Further conditions on the rows of a kind (besides the time range and its side). */
  where?: (kind: EntityKind) => string | null;
  /** Condition on a group, over the aggregate names. */
  having?: string;
}

/**
 * Events with `{from} <= time < {to}` (DateTime64 parameters) grouped per entity of each kind, as
 * rows (by, entity_type, entity_id, klass, aggregates…). One aggregation per kind, keyed by its
 * own column and glued with UNION ALL (the engine runs the branches in parallel): exploding every
 * event into an array of (type, id, class) string tuples and grouping those cost about three
 * times as much on a window of 15 M events. Entity ids become text only after grouping.
 */
export function sqlPerEntity(d: Dialect, kinds: readonly EntityKindName[], q: PerEntityQuery): string {
  const [byName, byExpr] = q.by;
  return kinds
    .map((name) => {
      const kind = ENTITY_KINDS[name];
      const aggregates = q.aggregates(kind);
      const where = [
        "e.time >= {from:DateTime64(3, 'UTC')} AND e.time < {to:DateTime64(3, 'UTC')}",
        kind.side === 'staff' ? `e.actor_uid IN (SELECT principal_id FROM ${STAFF})` : null,
        kind.side === 'customer' ? `e.actor_uid NOT IN (SELECT principal_id FROM ${STAFF})` : null,
        kind.present ?? null,
        q.where?.(kind) ?? null,
      ].filter((c): c is string => c !== null && c !== '');
      return `SELECT ${byName}, '${kind.type}' AS entity_type, ${kind.id(d, 'k')} AS entity_id, klass,
          ${aggregates.map(([n]) => n).join(', ')}
        FROM (
          SELECT ${byExpr} AS ${byName}, ${kind.key} AS k, any(${kind.klass}) AS klass,
            ${aggregates.map(([n, expr]) => `${expr} AS ${n}`).join(', ')}
          FROM events AS e${kind.side === 'staff' ? ` INNER JOIN ${STAFF} AS s ON e.actor_uid = s.principal_id` : ''}
          WHERE ${where.join(' AND ')}
          GROUP BY ${byName}, k${q.having ? `\n          HAVING ${q.having}` : ''})`;
    })
    .join('\n      UNION ALL\n      ');
}

/**
 * Array((entity_type, entity_id, class)) of an `events` row `e` joined to STAFF as `s`, the ids as
 * text: every entity the row belongs to, for reading a few entities' events back (evidence).
 */
export function sqlEntityTuples(d: Dialect): string {
  return `arrayConcat(
          [('site', '', '')],
          if(s.principal_id != '', [('actor', e.actor_uid, if(s.is_service = 1, 'service', 'employee'))], []),
          if(s.person_id != '', [('person', s.person_id, 'employee')], []),
          if(s.principal_id = '', [('ip', ${d.sqlIpToString('e.src_ip')}, toString(e.net_class)), ('subnet', ${d.sqlSubnet('e.src_ip')}, toString(e.net_class)),
            ('asn', if(e.asn = 0, '', concat('AS', toString(e.asn))), toString(e.net_class)),
            ('user_agent', toString(e.user_agent), '')], []))`;
}
