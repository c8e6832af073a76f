import fs from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { UserError } from '../../cli/errors.ts';
import type { Engine } from '../../store/index.ts';
import { ReferenceFileError, type ReferenceProblem } from './errors.ts';
import { appendSnapshot, type ReferenceLoad } from './load.ts';

/** Site settings: where the business is, which networks are its own, and who speaks for it. */
export interface SiteSettings {
  /** IANA zone in which reference dates (left_on, retired_on) are calendar days. */
  timezone: string;
  /** Countries where the business and its customers normally are (ISO alpha-2). */
  home_countries: string[];
  /** Proxy ranges whose addresses are never a client's own. */
  trusted_proxies: string[];
  /** Extra carrier-NAT ranges beyond the ASN list (addresses shared by thousands of customers). */
  carrier_nat: string[];
  /** Partners' ranges: traffic from them is known, not novel. */
  partners: { name: string; ranges: string[] }[];
  /** The company's own ranges (offices, data centres, VPN). */
  internal: string[];
  legal_entity: { name: string; contact: string; address: string };
  /** Detector parameters by detector id, over each detector's defaults. */
  detection: Record<string, Record<string, unknown>>;
  ingest: { max_line_bytes: number };
}

export const DEFAULT_SETTINGS: SiteSettings = {
  timezone: 'Asia/Seoul',
  home_countries: ['KR'],
  trusted_proxies: [],
  carrier_nat: [],
  partners: [],
  internal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
  legal_entity: { name: 'Example Commerce Co., Ltd.', contact: 'privacy@example.com', address: '' },
  detection: {},
  ingest: { max_line_bytes: 1024 * 1024 },
};

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** Validates a settings document over the defaults; each problem names its key and line. */
export function parseSettings(file: string, text: string): SiteSettings {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const problems: ReferenceProblem[] = doc.errors.map((e) => ({
    line: e.linePos?.[0]?.line ?? 1,
    message: e.message,
  }));
  if (problems.length > 0) throw new ReferenceFileError(file, problems);
  const raw = (doc.toJS() ?? {}) as Record<string, unknown>;
  const lineOf = (key: string) => {
    const node = doc.get(key, true) as { range?: [number, number, number] } | undefined;
    return node?.range ? lc.linePos(node.range[0]).line : 1;
  };
  const out: SiteSettings = structuredClone(DEFAULT_SETTINGS);
  for (const [key, value] of Object.entries(raw)) {
    const bad = (message: string) => problems.push({ line: lineOf(key), column: key, message });
    switch (key) {
      case 'timezone':
        try {
          new Intl.DateTimeFormat('en', { timeZone: String(value) });
          out.timezone = String(value);
        } catch {
          bad(`"${String(value)}" is not an IANA time zone`);
        }
        break;
      case 'home_countries':
      case 'trusted_proxies':
      case 'carrier_nat':
      case 'internal':
        if (isStringList(value)) out[key] = value;
        else bad('must be a list of strings');
        break;
      case 'partners':
        if (
          Array.isArray(value) &&
          value.every((p) => p && typeof p.name === 'string' && isStringList(p.ranges))
        ) {
          out.partners = value;
        } else bad('must be a list of { name, ranges: [cidr…] }');
        break;
      case 'legal_entity':
        if (value && typeof value === 'object')
          out.legal_entity = { ...out.legal_entity, ...(value as object) };
        else bad('must be a mapping with name, contact, address');
        break;
      case 'detection':
        if (value && typeof value === 'object') out.detection = value as SiteSettings['detection'];
        else bad('must be a mapping of detector id to parameters');
        break;
      case 'ingest': {
        const max = (value as { max_line_bytes?: unknown })?.max_line_bytes;
        if (typeof max === 'number' && max > 0) out.ingest.max_line_bytes = max;
        else bad('ingest.max_line_bytes must be a positive number');
        break;
      }
      default:
        bad(`unknown setting "${key}"`);
    }
  }
  if (problems.length > 0) throw new ReferenceFileError(file, problems);
  return out;
}

export async function loadSettings(engine: Engine, file: string): Promise<ReferenceLoad> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`cannot read ${file}`, 'Check the path.');
  }
  const settings = parseSettings(file, text);
  return appendSnapshot(engine, 'settings', file, 'site_settings', [{ document: JSON.stringify(settings) }]);
}

/** The newest loaded settings, or the defaults when none were loaded. */
export async function currentSettings(engine: Engine): Promise<SiteSettings> {
  const [row] = await engine.query<{ document: string }>(
    'SELECT document FROM site_settings ORDER BY load_seq DESC LIMIT 1',
  );
  return row
    ? { ...DEFAULT_SETTINGS, ...(JSON.parse(row.document) as SiteSettings) }
    : structuredClone(DEFAULT_SETTINGS);
}
