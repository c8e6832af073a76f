/**
 * Where traffic comes from. Every range below was taken from, and is checked against
 * (`networks.test.ts`), the offline databases in node_modules/@ip-location-db/asn
 * (asn-ipv4-num.csv, range → ASN) and @ip-location-db/geo-whois-asn-country
 * (range → country), package versions 2.3.2026061719. Hard-coded rather than resolved at run
 * time so a simulation is fast and does not change when those packages are updated.
 */
export type NetworkKind = 'mobile' | 'broadband' | 'hosting' | 'internal';

export interface Network {
  name: string;
  kind: NetworkKind;
  /** 0 for private space, which has no ASN. */
  asn: number;
  org: string;
  country: string;
  /** Inclusive dotted-quad ranges, each inside one row of the ASN database. */
  ranges: readonly (readonly [string, string])[];
}

export const NETWORKS = {
  // Korean mobile carriers: customers on phones reach us through a small pool of carrier NAT
  // addresses, so one address carries thousands of customers.
  sktMobile: net('SK Telecom mobile', 'mobile', 9644, 'SK Telecom', 'KR', [['223.32.0.0', '223.63.255.255']]),
  ktMobile: net('KT mobile', 'mobile', 4766, 'Korea Telecom', 'KR', [
    ['39.4.0.0', '39.7.255.255'],
    ['175.223.0.0', '175.223.255.255'],
  ]),
  lguMobile: net('LG U+ mobile', 'mobile', 17853, 'LGTELECOM', 'KR', [['106.101.0.0', '106.101.12.255']]),
  // Home broadband: one address per household, stable for weeks.
  ktBroadband: net('KT broadband', 'broadband', 4766, 'Korea Telecom', 'KR', [
    ['115.1.0.0', '115.20.255.255'],
  ]),
  skbBroadband: net('SK Broadband', 'broadband', 9318, 'SK Broadband Co Ltd', 'KR', [
    ['110.8.0.0', '110.9.131.255'],
  ]),
  lguBroadband: net('LG U+ broadband', 'broadband', 17858, 'LG POWERCOMM', 'KR', [
    ['124.48.0.0', '124.63.255.255'],
  ]),
  sktBroadband: net('SK Telecom fixed', 'broadband', 9644, 'SK Telecom', 'KR', [
    ['42.16.0.0', '42.47.255.255'],
  ]),
  // Abroad: hotels and homes of travellers, and the new office in Vietnam.
  nttJapan: net('NTT Japan', 'broadband', 4713, 'NTT Communications Corporation', 'JP', [
    ['60.32.0.0', '60.47.255.255'],
  ]),
  kddiJapan: net('KDDI Japan', 'broadband', 2516, 'KDDI CORPORATION', 'JP', [['27.80.0.0', '27.80.255.255']]),
  comcastUs: net('Comcast US', 'broadband', 7922, 'Comcast Cable Communications, LLC', 'US', [
    ['98.32.0.0', '98.63.255.255'],
  ]),
  viettel: net('Viettel', 'broadband', 7552, 'Viettel Group', 'VN', [['117.0.0.0', '117.1.148.255']]),
  vnpt: net('VNPT', 'broadband', 45899, 'VNPT Corp', 'VN', [['14.160.0.0', '14.191.255.255']]),
  // Hosting providers: where crawlers and credential-stuffing tools run.
  awsTokyo: net('AWS Tokyo', 'hosting', 16509, 'Amazon.com, Inc.', 'JP', [['54.150.0.0', '54.150.255.255']]),
  digitalOcean: net('DigitalOcean', 'hosting', 14061, 'DigitalOcean, LLC', 'NL', [
    ['95.85.0.0', '95.85.63.255'],
  ]),
  ovh: net('OVH', 'hosting', 16276, 'OVH SAS', 'CA', [['54.39.0.0', '54.39.255.255']]),
  alibaba: net('Alibaba Cloud', 'hosting', 45102, 'Alibaba (US) Technology Co., Ltd.', 'US', [
    ['47.74.0.0', '47.77.27.255'],
  ]),
  vultr: net('Vultr', 'hosting', 20473, 'The Constant Company, LLC', 'US', [['45.76.0.0', '45.76.31.255']]),
  hetzner: net('Hetzner', 'hosting', 24940, 'Hetzner Online GmbH', 'DE', [['78.46.0.0', '78.46.27.255']]),
  // Private space: offices, the staff VPN and the service mesh.
  office: net('Seoul office', 'internal', 0, 'internal', 'KR', [['10.10.0.0', '10.10.255.255']]),
  vpn: net('Staff VPN', 'internal', 0, 'internal', 'KR', [['10.8.0.0', '10.8.255.255']]),
  services: net('Service mesh', 'internal', 0, 'internal', 'KR', [['10.20.0.0', '10.20.255.255']]),
} satisfies Record<string, Network>;

export type NetworkName = keyof typeof NETWORKS;

export const MOBILE_CARRIERS: readonly NetworkName[] = ['sktMobile', 'ktMobile', 'lguMobile'];
export const BROADBAND_KR: readonly NetworkName[] = [
  'ktBroadband',
  'skbBroadband',
  'lguBroadband',
  'sktBroadband',
];
export const ABROAD: readonly NetworkName[] = ['nttJapan', 'kddiJapan', 'comcastUs', 'viettel'];
export const HOSTING: readonly NetworkName[] = [
  'awsTokyo',
  'digitalOcean',
  'ovh',
  'alibaba',
  'vultr',
  'hetzner',
];

function net(
  name: string,
  kind: NetworkKind,
  asn: number,
  org: string,
  country: string,
  ranges: readonly (readonly [string, string])[],
): Network {
  return { name, kind, asn, org, country, ranges };
}

export function ipToInt(ip: string): number {
  const p = ip.split('.');
  return ((+p[0] << 24) >>> 0) + (+p[1] << 16) + (+p[2] << 8) + +p[3];
}

export function intToIp(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Total addresses in a network, for drawing uniformly. */
function size(network: Network): number {
  let total = 0;
  for (const [a, b] of network.ranges) total += ipToInt(b) - ipToInt(a) + 1;
  return total;
}

/**
 * The address at fraction `u` ∈ [0,1) of the network. Avoids .0 and .255 host parts, which
 * real clients rarely have and which make data look synthetic.
 */
export function addressAt(network: Network, u: number): string {
  let offset = Math.floor(u * size(network));
  for (const [a, b] of network.ranges) {
    const first = ipToInt(a);
    const span = ipToInt(b) - first + 1;
    if (offset < span) {
      let n = first + offset;
      const last = n & 255;
      if (last === 0) n += 1;
      else if (last === 255) n -= 1;
      return intToIp(n);
    }
    offset -= span;
  }
  return intToIp(ipToInt(network.ranges[0][0]) + 1);
}
