/**
 * Test helpers for the behavioural detectors: a real chDB workspace, reference data, events
 * inserted with their enrichment columns already set (tests must not depend on the IP database),
 * and a DetectContext built the way the runner builds it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  catalogSql,
  currentCatalog,
  currentSettings,
  loadCatalog,
  loadPeople,
  loadServices,
} from '../../sources/reference/index.ts';
import { openWorkspace, type Workspace } from '../../store/index.ts';
import type { DetectContext, Detector, Finding, WindowRange } from '../detector.ts';

export interface Kit {
  ws: Workspace;
  dir: string;
  close(): Promise<void>;
}

export async function openKit(prefix: string): Promise<Kit> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vigil-${prefix}-`));
  const ws = await openWorkspace(path.join(dir, 'ws'));
  return {
    ws,
    dir,
    async close() {
      await ws.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const CATALOG_YAML = `categories:
  name: { label: Name }
  email: { label: Email }
  phone: { label: Phone }
  address: { label: Address }
  door_code: { label: Door code }
  order_history: { label: Orders }
  payment: { label: Payment }
operations:
  GetProfile: [name, email, phone]
  GetShippingAddresses: [name, phone, address]
  GetDeliveryInstructions: [address, door_code]
  GetPaymentMethods: [payment]
  SearchCustomers: [name, email, phone]
  GetCustomerProfile: [name, email, phone]
  GetShippingLabel: [name, address]
  GetCustomerAddresses: [name, phone, address, door_code]
  ExportAudience: [name, email]
  GetServiceHealth: []
`;

export interface Person {
  person_id: string;
  principal: string;
  department: string;
  role: string;
  country?: string;
  hired_on?: string;
}

/** Loads a roster, the services and the catalog through the ordinary loaders. */
export async function loadReference(kit: Kit, people: Person[], services: string[]): Promise<void> {
  const pf = path.join(kit.dir, 'people.csv');
  fs.writeFileSync(
    pf,
    `person_id,principal_ids,department,role,country,hired_on,left_on\n${people
      .map(
        (p) =>
          `${p.person_id},${p.principal},${p.department},${p.role},${p.country ?? 'KR'},${p.hired_on ?? '2020-01-01'},`,
      )
      .join('\n')}\n`,
  );
  const sf = path.join(kit.dir, 'services.csv');
  fs.writeFileSync(
    sf,
    `principal_id,owner_team,description\n${services.map((s) => `${s},team,${s}`).join('\n')}\n`,
  );
  const cf = path.join(kit.dir, 'catalog.yaml');
  fs.writeFileSync(cf, CATALOG_YAML);
  await loadCatalog(kit.ws.engine, cf);
  await loadPeople(kit.ws.engine, pf);
  await loadServices(kit.ws.engine, sf);
}

/** An event as tests write it: only what matters, the rest defaulted. */
export interface Ev {
  t: number | string;
  actor: string;
  actor_type?: string;
  ip: string;
  country?: string;
  asn?: number;
  net_class?: string;
  key?: string;
  ua?: string;
  op?: string;
  subjects?: string[];
  class_uid?: number;
  status?: number;
}

let evSeq = 0;

export function row(e: Ev): Record<string, unknown> {
  const ms = typeof e.t === 'number' ? e.t : Date.parse(e.t);
  return {
    event_id: `ev-${++evSeq}`,
    time: new Date(ms).toISOString().replace('T', ' ').replace('Z', ''),
    class_uid: e.class_uid ?? 6003,
    activity_id: e.class_uid === 3002 ? 1 : 2,
    status_id: e.status ?? 1,
    actor_uid: e.actor,
    actor_type:
      e.actor_type ??
      (e.actor.startsWith('c-') ? 'Customer' : e.actor.startsWith('svc-') ? 'Service' : 'Employee'),
    token_id: '',
    key_id: e.key ?? '',
    token_created_ms: 0,
    token_expires_ms: 0,
    issuer: '',
    src_ip: e.ip.includes(':') ? e.ip : `::ffff:${e.ip}`,
    reported_country: '',
    reported_asn: 0,
    country: e.country ?? 'KR',
    asn: e.asn ?? 0,
    as_org: '',
    net_class: e.net_class ?? 'private',
    http_method: 'GET',
    url_path: '/x',
    user_agent: e.ua ?? 'ua-default',
    operation: e.op ?? 'GetProfile',
    request_id: '',
    subject_ids: e.subjects ?? [],
    subject_types: (e.subjects ?? []).map(() => 'customer'),
    http_status: 200,
    response_bytes: 100,
    is_mfa: 0,
    source_file: 'test',
    source_line: evSeq,
    ingested_at: Math.floor(Date.now() / 1000),
    unmapped: '',
  };
}

/** Inserts events in batches, as ingest stores them (rollups are refreshed by the detectors). */
export async function insertEvents(kit: Kit, events: Ev[]): Promise<void> {
  for (let i = 0; i < events.length; i += 20_000) {
    await kit.ws.engine.insert('events', events.slice(i, i + 20_000).map(row));
  }
}

export async function contextFor(
  kit: Kit,
  detector: Detector,
  overrides: Record<string, number | string | boolean> = {},
): Promise<DetectContext> {
  const engine = kit.ws.engine;
  const settings = await currentSettings(engine);
  const catalog = await currentCatalog(engine);
  return {
    engine,
    dialect: engine.dialect,
    settings,
    catalog,
    catalogSql: catalogSql(catalog, engine.dialect),
    params: {
      ...detector.meta.defaults,
      ...(settings.detection[detector.meta.id] ?? {}),
      ...overrides,
    } as Record<string, number | string | boolean>,
  };
}

/** Evaluates a range at once. */
export async function evaluate(
  kit: Kit,
  d: Detector,
  range: WindowRange,
  params: Record<string, number | string | boolean> = {},
): Promise<Finding[]> {
  return d.evaluate(await contextFor(kit, d, params), range);
}

/** Evaluates a range one window at a time, as live operation does. */
export async function evaluateEach(
  kit: Kit,
  d: Detector,
  range: WindowRange,
  params: Record<string, number | string | boolean> = {},
): Promise<Finding[]> {
  const ctx = await contextFor(kit, d, params);
  const out: Finding[] = [];
  const w = range.windowSeconds * 1000;
  for (let t = range.start.getTime(); t < range.end.getTime(); t += w) {
    out.push(
      ...(await d.evaluate(ctx, {
        start: new Date(t),
        end: new Date(t + w),
        windowSeconds: range.windowSeconds,
      })),
    );
  }
  return out;
}

/** Deterministic pseudo-random numbers for generated fixtures. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    s = Math.imul(s ^ (s >>> 12), 0x297a2d39) >>> 0;
    return ((s ^ (s >>> 15)) >>> 0) / 4294967296;
  };
}

export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/**
 * The shared world of the baseline detector tests: ten ordinary days (2025-06-01..10, site time
 * zone Asia/Seoul) and a judged day (06-11) holding both the attacks each detector must catch and
 * the benign stressors they must stay quiet on:
 *
 * - support agents emp-a1..a6 (customer-service/agent), ~40 lookups of two customers a working day;
 *   on the judged day emp-a1 (the insider) makes 400 lookups and 60 more between 23:00 and 01:00;
 *   emp-new, hired that day, works normally; emp-a2 works from a hotel in Japan (the traveller);
 * - svc-ship reads about a thousand customers every day (a service reading everyone); svc-export
 *   exports 3,000 customers each Sunday night (a weekly export), and on the judged day its
 *   credential is used from a hosting address abroad to read address books with door codes;
 * - carrier NAT addresses shared by hundreds of customers, home broadband addresses, a customer on a
 *   cloud VPN (one account, hosting address);
 * - on the judged day, credential stuffing: 80 failed logins for distinct accounts from one hosting
 *   address; and from day 4 a new broadband address reading ~8 customers an hour (low and slow).
 */
export const WORLD = {
  day0: Date.parse('2025-05-31T15:00:00Z'), // 2025-06-01 00:00 KST
  judged: Date.parse('2025-06-10T15:00:00Z'), // 2025-06-11 00:00 KST
  insider: 'emp-a1',
  insiderPerson: 'p-a1',
  traveller: 'emp-a2',
  newHire: 'emp-new',
  stuffing: '45.76.1.1',
  vpn: '54.150.0.5',
  slow: '115.9.9.9',
  nat: ['223.32.0.10', '223.32.0.11', '39.4.0.12'],
};

export const PEOPLE: Person[] = [
  ...[1, 2, 3, 4, 5, 6].map((i) => ({
    person_id: `p-a${i}`,
    principal: `emp-a${i}`,
    department: 'customer-service',
    role: 'agent',
  })),
  {
    person_id: 'p-new',
    principal: 'emp-new',
    department: 'customer-service',
    role: 'agent',
    hired_on: '2025-06-11',
  },
  { person_id: 'p-m1', principal: 'emp-m1', department: 'marketing', role: 'analyst' },
];
export const SERVICES = ['svc-ship', 'svc-export'];

export function worldEvents(): Ev[] {
  const r = rng(42);
  const out: Ev[] = [];
  const cust = (i: number) => `c-${String(i).padStart(6, '0')}`;
  const anyCust = () => cust(Math.floor(r() * 20_000));
  const office = { ip: '10.10.0.5', net_class: 'private', country: 'KR', asn: 0 };
  // `day` is local midnight (KST); office hours are 09:00–18:00 KST.
  for (let d = 0; d <= 10; d++) {
    const day = WORLD.day0 + d * DAY;
    const judged = d === 10;
    const weekday = new Date(day + 9 * HOUR).getUTCDay(); // KST weekday
    // Support agents: office hours 09:00–18:00 KST.
    for (let a = 1; a <= 7; a++) {
      const actor = a === 7 ? WORLD.newHire : `emp-a${a}`;
      if (a === 7 && !judged) continue;
      if (weekday === 0 || weekday === 6) continue;
      const n = actor === WORLD.insider && judged ? 400 : 30 + Math.floor(r() * 20);
      const where =
        actor === WORLD.traveller && judged
          ? { ip: '60.32.0.9', net_class: 'broadband', country: 'JP', asn: 4713 }
          : office;
      for (let k = 0; k < n; k++) {
        const t = day + 9 * HOUR + Math.floor(r() * 9 * HOUR);
        out.push({ t, actor, ...where, ua: 'desk', op: 'SearchCustomers', subjects: [anyCust(), anyCust()] });
      }
    }
    if (judged) {
      // The insider at night: 23:00–01:00 KST.
      for (let k = 0; k < 60; k++) {
        const t = day + 23 * HOUR + Math.floor(r() * 2 * HOUR);
        out.push({
          t,
          actor: WORLD.insider,
          ...office,
          ua: 'desk',
          op: 'GetCustomerProfile',
          subjects: [anyCust()],
        });
      }
    }
    // svc-ship: ~1,000 customers a day, around the clock.
    for (let k = 0; k < 1000; k++) {
      const t = day + Math.floor(r() * DAY);
      out.push({
        t,
        actor: 'svc-ship',
        ip: '10.20.0.2',
        net_class: 'private',
        ua: 'label/1',
        op: 'GetShippingLabel',
        subjects: [anyCust()],
      });
    }
    // svc-export: Sunday 02:00 KST, 3,000 customers in pages of 300.
    out.push({
      t: day + 4 * HOUR,
      actor: 'svc-export',
      ip: '10.20.0.3',
      net_class: 'private',
      ua: 'export/1',
      op: 'GetServiceHealth',
      subjects: [],
    });
    if (weekday === 0) {
      for (let k = 0; k < 10; k++) {
        const subjects = Array.from({ length: 300 }, (_, j) => cust(k * 300 + j));
        out.push({
          t: day + 2 * HOUR + k * 20_000,
          actor: 'svc-export',
          ip: '10.20.0.3',
          net_class: 'private',
          ua: 'export/1',
          op: 'ExportAudience',
          subjects,
        });
      }
    }
    // Customers: NAT addresses (hundreds each), home lines (one each), a cloud VPN customer.
    for (let k = 0; k < 900; k++) {
      const c = cust(Math.floor(r() * 20_000));
      const t = day + Math.floor(r() * DAY);
      const nat = WORLD.nat[k % 3]!;
      out.push({
        t,
        actor: c,
        ip: nat,
        net_class: 'mobile',
        asn: 9644,
        ua: 'app/1',
        key: 'k-app',
        op: 'GetProfile',
        subjects: [c],
      });
    }
    for (let k = 0; k < 150; k++) {
      const c = cust(10_000 + k);
      const t = day + Math.floor(r() * DAY);
      out.push({
        t,
        actor: c,
        ip: `115.1.${Math.floor(k / 200)}.${(k % 200) + 2}`,
        net_class: 'broadband',
        asn: 4766,
        ua: 'browser/1',
        key: 'k-app',
        op: 'GetProfile',
        subjects: [c],
      });
    }
    out.push({
      t: day + 5 * HOUR,
      actor: cust(777),
      ip: WORLD.vpn,
      net_class: 'hosting',
      asn: 16509,
      country: 'JP',
      ua: 'browser/1',
      key: 'k-app',
      op: 'GetProfile',
      subjects: [cust(777)],
    });
    // Low and slow from day 4: ~8 customers an hour from one new broadband address.
    if (d >= 4) {
      for (let h = 0; h < 24; h++) {
        for (let k = 0; k < 8; k++) {
          const c = anyCust();
          out.push({
            t: day + h * HOUR + k * 400_000,
            actor: c,
            ip: WORLD.slow,
            net_class: 'broadband',
            asn: 4766,
            ua: 'browser/1',
            key: 'k-app',
            op: 'GetProfile',
            subjects: [c],
          });
        }
      }
    }
    if (judged) {
      // The export credential from a hosting address abroad: address books with door codes.
      for (let k = 0; k < 60; k++) {
        const t = day + 3 * HOUR + k * 50_000;
        const subjects = Array.from({ length: 25 }, () => anyCust());
        out.push({
          t,
          actor: 'svc-export',
          ip: '45.76.9.9',
          net_class: 'hosting',
          country: 'US',
          asn: 20473,
          ua: 'curl/8',
          op: 'GetCustomerAddresses',
          subjects,
        });
      }
      // Credential stuffing: failed logins for 80 distinct accounts over six hours.
      for (let k = 0; k < 80; k++) {
        const t = day + 1 * HOUR + k * 270_000;
        out.push({
          t,
          actor: cust(15_000 + k),
          class_uid: 3002,
          status: 2,
          ip: WORLD.stuffing,
          net_class: 'hosting',
          country: 'US',
          asn: 20473,
          ua: 'Mozilla/5.0 x',
          subjects: [],
        });
      }
    }
  }
  return out;
}

/** A workspace with the shared world loaded. */
export async function openWorld(prefix: string): Promise<Kit> {
  const kit = await openKit(prefix);
  await loadReference(kit, PEOPLE, SERVICES);
  await insertEvents(kit, worldEvents());
  return kit;
}

/** The judged day as windows of five minutes. */
export const JUDGED_DAY: WindowRange = {
  start: new Date(WORLD.judged),
  end: new Date(WORLD.judged + DAY),
  windowSeconds: 300,
};

export function ids(findings: readonly Finding[]): string[] {
  return [...new Set(findings.map((f) => `${f.entity.type}:${f.entity.id}`))].sort();
}

/** Evidence is free-form JSON; tests read into it by path. */
// biome-ignore lint/suspicious/noExplicitAny: tests read free-form evidence
export type Loose = any;
