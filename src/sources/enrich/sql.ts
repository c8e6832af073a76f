import { RESERVED_PREFIXES } from './reserved.ts';

/**
 * The one place enrichment SQL lives. Enrichment is a join: `sqlEnrichAddresses` takes a SELECT
 * yielding a column `ip` (IPv6; IPv4 as ::ffff:a.b.c.d) and returns one row per address with its
 * country, ASN, AS organisation and network class. Ingest runs it on a batch's distinct addresses
 * and stores the result on each event, so later queries read columns, not lookups.
 */

/** Network classes. `private` = IANA special-purpose space; `other` = public but not on the list. */
export const NETWORK_CLASSES = ['hosting', 'mobile', 'broadband', 'private', 'other'] as const;
export type NetworkClass = (typeof NETWORK_CLASSES)[number];

/** Country for addresses in private or reserved space (ISO 3166 user-assigned "unknown"). */
export const RESERVED_COUNTRY = 'ZZ';

/** A prefix as inclusive bounds in the IPv6 number space (IPv4 a.b.c.d/n is ::ffff:a.b.c.d/96+n). */
function prefixBounds(prefix: string): [bigint, bigint] {
  const [addr, lenText] = prefix.split('/');
  let value: bigint;
  let len = Number(lenText);
  if (addr!.includes(':')) {
    const [head, tail = ''] = addr!.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    value = groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g || '0', 16)), 0n);
  } else {
    value = addr!.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n) | (0xffffn << 32n);
    len += 96;
  }
  const span = (1n << BigInt(128 - len)) - 1n;
  return [value & ~span, (value & ~span) | span];
}

/**
 * 1 when the address is private, loopback, link-local, CGNAT or otherwise reserved. Checked before
 * the database, which maps some of these blocks (e.g. 192.168.0.0/16) to countries.
 */
export function sqlIsReserved(ip: string): string {
  const n = sqlIpNumber(ip);
  return `(${RESERVED_PREFIXES.map(([p]) => {
    const [lo, hi] = prefixBounds(p);
    return `${n} BETWEEN toUInt128('${lo}') AND toUInt128('${hi}')`;
  }).join(' OR ')})`;
}

/** The address as a big-endian UInt128, the number space of the range tables. */
function sqlIpNumber(ip: string): string {
  return `reinterpretAsUInt128(reverse(reinterpretAsString(toIPv6(${ip}))))`;
}

/**
 * One row per input address: ip, country ('ZZ' for reserved space, '' when unknown), asn and
 * as_org (0 / '' when unknown), net_class (hosting, mobile, broadband, private or other). Each
 * range table is matched by an ASOF join: the range with the greatest start at or below the
 * address, kept only when the address is within its end.
 */
export function sqlEnrichAddresses(addresses: string): string {
  return `
    SELECT i.ip AS ip,
      if(i.reserved, '${RESERVED_COUNTRY}', if(c.s > 0 AND i.n <= c.e, toString(c.country), '')) AS country,
      if(i.reserved OR a.s = 0 OR i.n > a.e, toUInt32(0), a.asn) AS asn,
      if(asn = 0, '', toString(a.as_org)) AS as_org,
      multiIf(i.reserved, 'private', cl.class != '', toString(cl.class), 'other') AS net_class
    FROM (
      SELECT ip, ${sqlIpNumber('ip')} AS n, ${sqlIsReserved('ip')} AS reserved, 1 AS k FROM (${addresses})
    ) AS i
    ASOF LEFT JOIN (SELECT s, e, asn, as_org, 1 AS k FROM ip_asn_ranges) AS a ON i.k = a.k AND i.n >= a.s
    ASOF LEFT JOIN (SELECT s, e, country, 1 AS k FROM ip_country_ranges) AS c ON i.k = c.k AND i.n >= c.s
    LEFT JOIN (SELECT asn, class FROM asn_classes) AS cl ON cl.asn = if(i.reserved OR a.s = 0 OR i.n > a.e, toUInt32(0), a.asn)
    SETTINGS join_use_nulls = 0`;
}
