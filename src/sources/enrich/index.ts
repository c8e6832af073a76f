/**
 * Enrichment's door: country, ASN, AS organisation and network class for client addresses,
 * answered by the engine from an offline database (see data/README.md).
 */

export type { IpDbLoad, IpDbOptions, PartLoad } from './ipdb.ts';
export { DEFAULT_CLASSES_FILE, IP_PACKAGES, loadIpDatabase, RESERVED_PREFIXES } from './ipdb.ts';
export type { NetworkClass } from './sql.ts';
export { NETWORK_CLASSES, RESERVED_COUNTRY, sqlEnrichAddresses, sqlIsReserved } from './sql.ts';
