import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { it } from 'node:test';
import { ipToInt, NETWORKS } from './networks.ts';

/** Rows of an ip-location-db "-num" CSV as [first, last, value] with `value` the given column. */
function load(file: string, column: number): [number, number, string][] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const cells = line.split(',');
      return [Number(cells[0]), Number(cells[1]), cells[column]];
    });
}

function lookup(rows: [number, number, string][], n: number): [number, number, string] | undefined {
  let lo = 0;
  let hi = rows.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (n < rows[mid][0]) hi = mid - 1;
    else if (n > rows[mid][1]) lo = mid + 1;
    else return rows[mid];
  }
  return undefined;
}

it('every public range belongs to the ASN and country it claims (ip-location-db)', () => {
  const require = createRequire(import.meta.url);
  const asnDir = require.resolve('@ip-location-db/asn/package.json').replace(/package\.json$/, '');
  const geoDir = require
    .resolve('@ip-location-db/geo-whois-asn-country/package.json')
    .replace(/package\.json$/, '');
  const asns = load(`${asnDir}asn-ipv4-num.csv`, 2);
  const countries = load(`${geoDir}geo-whois-asn-country-ipv4-num.csv`, 2);
  for (const network of Object.values(NETWORKS)) {
    for (const [first, last] of network.ranges) {
      if (network.asn === 0) {
        assert.ok(first.startsWith('10.') && last.startsWith('10.'), `${network.name} is private`);
        continue;
      }
      const row = lookup(asns, ipToInt(first));
      assert.ok(row, `${first} is in the ASN database`);
      assert.equal(Number(row[2]), network.asn, `${network.name} ${first}`);
      assert.ok(ipToInt(last) <= row[1], `${network.name} ${first}–${last} stays inside one ASN row`);
      for (const ip of [first, last])
        assert.equal(lookup(countries, ipToInt(ip))?.[2], network.country, `${network.name} ${ip} country`);
    }
  }
});
