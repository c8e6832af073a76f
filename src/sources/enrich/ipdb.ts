import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Engine } from '../../store/index.ts';
import { NETWORK_CLASSES } from './sql.ts';

/**
 * Loads the offline IP database into the engine. The CSVs are read by the engine itself with
 * `file()`; no row passes through JavaScript. Ranges are kept as they are and matched by an ASOF
 * join (see migration 0003 for why).
 *
 * Database: two packages from sapics/ip-location-db (see data/README.md for why these two).
 *  - `@ip-location-db/asn`: IPv4 + IPv6 ranges → ASN and AS organisation (CC BY 4.0).
 *  - `@ip-location-db/geo-whois-asn-country`: IPv4 + IPv6 ranges → country (CC0 / NRO data).
 */

/** The packages read, and the files in each: IPv4 and IPv6, as numeric (UInt128-parsable) ranges. */
export const IP_PACKAGES = {
  asn: { name: '@ip-location-db/asn', v4: 'asn-ipv4-num.csv', v6: 'asn-ipv6-num.csv' },
  country: {
    name: '@ip-location-db/geo-whois-asn-country',
    v4: 'geo-whois-asn-country-ipv4-num.csv',
    v6: 'geo-whois-asn-country-ipv6-num.csv',
  },
} as const;

/** The repo's ASN classification list. */
export const DEFAULT_CLASSES_FILE = fileURLToPath(new URL('../../../data/asn-classes.csv', import.meta.url));

export { RESERVED_PREFIXES } from './reserved.ts';

export interface IpDbOptions {
  /** Reload even when the recorded versions match. */
  force?: boolean;
  /** ASN classification CSV (`asn,class,name,source`); defaults to data/asn-classes.csv. */
  classesFile?: string;
}

export interface PartLoad {
  part: 'asn' | 'country' | 'classes';
  /** `package@version`, or the classes file's sha256. */
  version: string;
  /** Whether this call (re)loaded it; false when it was already current. */
  loaded: boolean;
  /** Prefixes (asn, country) or ASNs (classes) now in the table. */
  rows: number;
  seconds: number;
}

export interface IpDbLoad {
  parts: PartLoad[];
  seconds: number;
}

const require = createRequire(import.meta.url);

function packageDir(name: string): { dir: string; version: string } {
  const manifest = require.resolve(`${name}/package.json`);
  const { version } = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string };
  return { dir: path.dirname(manifest), version };
}

async function currentVersions(engine: Engine): Promise<Map<string, string>> {
  const rows = await engine.query<{ part: string; version: string }>(
    'SELECT part, argMax(version, loaded_at) AS version FROM ip_db_loads GROUP BY part',
  );
  return new Map(rows.map((r) => [r.part, r.version]));
}

async function record(engine: Engine, p: PartLoad, source: string): Promise<void> {
  await engine.exec(
    `INSERT INTO ip_db_loads SELECT {part:String}, {source:String}, {version:String}, {rows:UInt64}, now(), {seconds:Float64}`,
    { part: p.part, source, version: p.version, rows: p.rows, seconds: p.seconds },
  );
}

async function count(engine: Engine, table: string): Promise<number> {
  const [row] = await engine.query<{ n: number }>(`SELECT count() AS n FROM ${table}`);
  return row?.n ?? 0;
}

/** IPv4 and IPv6 numeric range files as one source of (s, e, …) in the IPv6 number space. */
function sqlRangeSource(
  engine: Engine,
  dir: string,
  v4: string,
  v6: string,
  structure: string,
  cols: string,
): string {
  const f = (name: string, bound: string) =>
    `file(${engine.dialect.sqlString(path.join(dir, name))}, 'CSV', ${engine.dialect.sqlString(`s ${bound}, e ${bound}, ${structure}`)})`;
  return `SELECT toUInt128(toIPv6(toIPv4(s))) AS s, toUInt128(toIPv6(toIPv4(e))) AS e, ${cols} FROM ${f(v4, 'UInt32')}
    UNION ALL SELECT s, e, ${cols} FROM ${f(v6, 'UInt128')}`;
}

/**
 * Loads one package's ranges into `table` as they are. Where ranges nest (a provider's geofeed
 * entry inside a registry allocation), the lookup's nearest-start match prefers the inner one.
 */
async function loadRanges(
  engine: Engine,
  part: 'asn' | 'country',
  table: string,
  structure: string,
  cols: string,
): Promise<PartLoad & { source: string }> {
  const t0 = performance.now();
  const spec = IP_PACKAGES[part];
  const { dir, version } = packageDir(spec.name);
  await engine.exec(`TRUNCATE TABLE ${table}`);
  await engine.exec(`INSERT INTO ${table} ${sqlRangeSource(engine, dir, spec.v4, spec.v6, structure, cols)}`);
  return {
    part,
    version: `${spec.name}@${version}`,
    loaded: true,
    rows: await count(engine, table),
    seconds: (performance.now() - t0) / 1000,
    source: dir,
  };
}

async function loadClasses(engine: Engine, file: string, version: string): Promise<PartLoad> {
  const t0 = performance.now();
  const src = `file(${engine.dialect.sqlString(file)}, 'CSVWithNames', 'asn UInt64, class String, name String, source String')`;
  const bad = await engine.query<{ asn: number; class: string }>(
    `SELECT asn, class FROM ${src} WHERE class NOT IN {classes:Array(String)} OR asn = 0 LIMIT 5`,
    { classes: NETWORK_CLASSES.filter((c) => c !== 'private' && c !== 'other') },
  );
  if (bad.length > 0) {
    throw new Error(`${file}: bad rows ${bad.map((b) => `${b.asn}:${b.class}`).join(', ')}`);
  }
  const dupes = await engine.query<{ asn: number }>(
    `SELECT asn FROM ${src} GROUP BY asn HAVING count() > 1 LIMIT 5`,
  );
  if (dupes.length > 0) throw new Error(`${file}: ASNs listed twice: ${dupes.map((d) => d.asn).join(', ')}`);
  await engine.exec('TRUNCATE TABLE asn_classes');
  await engine.exec(`INSERT INTO asn_classes SELECT asn, class, name, source FROM ${src}`);
  return {
    part: 'classes',
    version,
    loaded: true,
    rows: await count(engine, 'asn_classes'),
    seconds: (performance.now() - t0) / 1000,
  };
}

/**
 * Brings the workspace's IP database and ASN classes up to date. Idempotent: each part records
 * what it loaded (package@version, or the classes file's hash) and is reloaded only when that
 * changes, so on an already loaded workspace this costs one small query.
 */
export async function loadIpDatabase(engine: Engine, opts: IpDbOptions = {}): Promise<IpDbLoad> {
  const t0 = performance.now();
  const have = opts.force ? new Map<string, string>() : await currentVersions(engine);
  const parts: PartLoad[] = [];

  const specs = [
    { part: 'asn' as const, table: 'ip_asn_ranges', structure: 'asn UInt32, org String', cols: 'asn, org' },
    { part: 'country' as const, table: 'ip_country_ranges', structure: 'country String', cols: 'country' },
  ];
  for (const s of specs) {
    const { name } = IP_PACKAGES[s.part];
    const version = `${name}@${packageDir(name).version}`;
    if (have.get(s.part) === version) {
      parts.push({ part: s.part, version, loaded: false, rows: await count(engine, s.table), seconds: 0 });
      continue;
    }
    const load = await loadRanges(engine, s.part, s.table, s.structure, s.cols);
    await record(engine, load, load.source);
    parts.push(load);
  }

  const classesFile = opts.classesFile ?? DEFAULT_CLASSES_FILE;
  const hash = `sha256:${createHash('sha256').update(fs.readFileSync(classesFile)).digest('hex')}`;
  if (have.get('classes') === hash) {
    parts.push({
      part: 'classes',
      version: hash,
      loaded: false,
      rows: await count(engine, 'asn_classes'),
      seconds: 0,
    });
  } else {
    const load = await loadClasses(engine, classesFile, hash);
    await record(engine, load, classesFile);
    parts.push(load);
  }

  return { parts, seconds: (performance.now() - t0) / 1000 };
}
