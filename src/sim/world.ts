import { customerAgent, type DeviceKind, desktopAgent } from './agents.ts';
import { addDays, DAY, kstDate, kstMidnight, type Timeline, utcDate } from './clock.ts';
import { ABROAD, addressAt, BROADBAND_KR, MOBILE_CARRIERS, NETWORKS, type NetworkName } from './networks.ts';
import { cumulative, Rng } from './rng.ts';

/** Someone whose record a response can return. */
export interface Subject {
  id: string;
  type: 'customer' | 'recipient';
}

export interface Device {
  kind: DeviceKind;
  /** User agent, already JSON-quoted. */
  ua: string;
  /** Mobile devices on a carrier draw a NAT address per session; others use the home line. */
  carrier: NetworkName | null;
}

export interface Trip {
  fromMs: number;
  toMs: number;
  ip: string;
}

/** One customer's profile, rebuilt on demand by `Customers.at` (nothing of it is kept). */
export interface Customer {
  index: number;
  subject: Subject;
  /** Relative activity, mean 1. */
  activity: number;
  devices: Device[];
  homeIp: string;
  /** Address-book entries (non-customers) and whether each has a door code. */
  recipients: Subject[];
  /** Recipient number of `recipients[0]` (they are numbered consecutively). */
  firstRecipient: number;
  doorCodes: Subject[];
  /** The delivery-address list: the account holder and every recipient in the address book. */
  book: Subject[];
  trip: Trip | null;
}

export interface Person {
  id: string;
  principals: string[];
  department: string;
  role: string;
  country: string;
  hiredOn: string;
  leftOn: string;
  /** Where this person works from: an office/VPN address or an office abroad. */
  ip: string;
  ua: string;
  /** Work trip abroad (the person works from a hotel). */
  trip: Trip | null;
}

export interface ServiceAccount {
  principal: string;
  ownerTeam: string;
  description: string;
  ip: string;
  ua: string;
}

export interface SigningKey {
  id: string;
  purpose: 'customer-access-token' | 'employee-access-token' | 'service-access-token';
  createdOn: string;
  retiredOn: string;
  custodians: string[];
}

export interface World {
  timeline: Timeline;
  customers: Customers;
  /** Carrier NAT pools: a handful of addresses per carrier shared by every phone on it. */
  natPools: Record<string, string[]>;
  people: Person[];
  services: ServiceAccount[];
  keys: SigningKey[];
  /** Well-known members of the cast that scenarios build on. */
  cast: {
    departedAuthEngineer: Person;
    /** Never-rotated key for app tokens, which the departed engineer once held. */
    appKey: SigningKey;
    webKeyOld: SigningKey;
    webKeyNew: SigningKey;
    employeeKey: SigningKey;
    serviceKey: SigningKey;
    /** A marketing analyst who leaves during the period. */
    leaverMidPeriod: Person;
  };
}

export function customerId(i: number): string {
  return `c-${String(i + 1).padStart(8, '0')}`;
}

export function recipientId(r: number): string {
  return `r-${String(r + 1).padStart(8, '0')}`;
}

const DEVICE_KINDS: DeviceKind[] = ['ios-app', 'android-app', 'mobile-web', 'desktop'];
const DEVICE_WEIGHTS = cumulative([0.32, 0.33, 0.12, 0.23]);

/** murmur3's finaliser: spreads a counter into an independent-looking 32-bit seed. */
function mix32(x: number): number {
  let h = x | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The customer base. A customer's profile is a pure function of (seed, index), rebuilt when asked
 * for: a profile kept per customer cost ~1.3 KB, so memory grew with the base (30 M+ for a real
 * retailer). What is kept is 8 bytes a customer: the activity the daily loop reads for everyone,
 * and where each address book starts (recipient ids are numbered across customers).
 */
export class Customers {
  readonly length: number;
  private readonly activities: Float32Array;
  private readonly firstRecipient: Uint32Array;
  private readonly bookSeed: number;
  private readonly homeSeed: number;
  private readonly profileSeed: number;

  constructor(
    seed: number,
    count: number,
    private readonly timeline: Timeline,
  ) {
    this.length = count;
    this.bookSeed = Rng.hash(seed, 'customer-book');
    this.homeSeed = Rng.hash(seed, 'customer-home');
    this.profileSeed = Rng.hash(seed, 'customer-profile');
    this.activities = new Float32Array(count);
    this.firstRecipient = new Uint32Array(count + 1);
    for (let i = 0; i < count; i++) {
      const rng = this.stream(this.bookSeed, i);
      this.firstRecipient[i + 1] = this.firstRecipient[i] + bookSize(rng);
      this.activities[i] = rng.activity(0.9);
    }
  }

  /** Customer i's own stream for one part of the profile. */
  private stream(base: number, i: number): Rng {
    return new Rng(mix32(base + Math.imul(i + 1, 0x9e3779b9)));
  }

  /** Recipients in every address book. */
  get recipients(): number {
    return this.firstRecipient[this.length];
  }

  activity(i: number): number {
    return this.activities[i];
  }

  subject(i: number): Subject {
    return { id: customerId(i), type: 'customer' };
  }

  /** Recipient number r (see `Customer.firstRecipient`). */
  recipient(r: number): Subject {
    return { id: recipientId(r), type: 'recipient' };
  }

  /** Families share a home line: a customer may use the previous customer's address. */
  homeIp(i: number): string {
    for (let j = i; ; j--) {
      const rng = this.stream(this.homeSeed, j);
      if (rng.chance(0.06) && j > 0) continue;
      return addressAt(NETWORKS[rng.pick(BROADBAND_KR)], rng.next());
    }
  }

  at(i: number): Customer {
    const rng = this.stream(this.profileSeed, i);
    const deviceCount = rng.chance(0.55) ? 1 : rng.chance(0.7) ? 2 : 3;
    const carrier = MOBILE_CARRIERS[rng.weighted(CARRIER_WEIGHTS)];
    const devices: Device[] = [];
    for (let d = 0; d < deviceCount; d++) {
      const kind = DEVICE_KINDS[rng.weighted(DEVICE_WEIGHTS)];
      const onCarrier = kind !== 'desktop' && rng.chance(0.7);
      devices.push({
        kind,
        ua: JSON.stringify(customerAgent(rng, kind)),
        carrier: onCarrier ? carrier : null,
      });
    }
    const self = this.subject(i);
    const recipients: Subject[] = [];
    const doorCodes: Subject[] = [];
    if (rng.chance(0.14)) doorCodes.push(self);
    for (let r = this.firstRecipient[i]; r < this.firstRecipient[i + 1]; r++) {
      const rec = this.recipient(r);
      recipients.push(rec);
      if (rng.chance(0.1)) doorCodes.push(rec);
    }
    let trip: Trip | null = null;
    const timeline = this.timeline;
    if (rng.chance(0.015) && timeline.days >= 4) {
      const from = timeline.startMs + rng.int(0, timeline.days - 3) * DAY + rng.int(0, 23) * 3_600_000;
      const net = NETWORKS[rng.pick(ABROAD)];
      trip = { fromMs: from, toMs: from + rng.int(3, 8) * DAY, ip: addressAt(net, rng.next()) };
    }
    return {
      index: i,
      subject: self,
      activity: this.activities[i],
      devices,
      homeIp: this.homeIp(i),
      recipients,
      firstRecipient: this.firstRecipient[i],
      doorCodes,
      book: [self, ...recipients],
      trip,
    };
  }
}

function bookSize(rng: Rng): number {
  return rng.chance(0.45) ? 0 : rng.int(1, rng.chance(0.8) ? 2 : 5);
}

export function buildWorld(seed: number, customers: number, timeline: Timeline): World {
  const rng = Rng.derive(seed, 'world');
  const natPools: Record<string, string[]> = {};
  const poolSize = Math.max(3, Math.round(customers / 5000));
  for (const carrier of MOBILE_CARRIERS) {
    natPools[carrier] = Array.from({ length: poolSize }, () => addressAt(NETWORKS[carrier], rng.next()));
  }
  const roster = buildRoster(rng, customers, timeline);
  return { timeline, customers: new Customers(seed, customers, timeline), natPools, ...roster };
}

const CARRIER_WEIGHTS = cumulative([0.45, 0.31, 0.24]);

function buildRoster(rng: Rng, customers: number, timeline: Timeline) {
  const periodStart = utcDate(timeline.startMs);
  const people: Person[] = [];
  let seq = 0;
  const office = NETWORKS.office;
  const addPerson = (
    department: string,
    role: string,
    hiredOn: string,
    leftOn = '',
    country = 'KR',
  ): Person => {
    const n = String(++seq).padStart(4, '0');
    const person: Person = {
      id: `p-${n}`,
      principals: [`emp-${n}`],
      department,
      role,
      country,
      hiredOn,
      leftOn,
      ip: addressAt(office, rng.next()),
      ua: JSON.stringify(desktopAgent(rng)),
      trip: null,
    };
    people.push(person);
    return person;
  };
  const hiredBefore = () => addDays(periodStart, -rng.int(200, 2500));
  // The Coupang pattern: an authentication engineer who left five months before the period,
  // still listed as custodian of a customer-token key that was never rotated.
  const departedAuthEngineer = addPerson('engineering', 'backend-engineer', addDays(periodStart, -2300));
  departedAuthEngineer.leftOn = addDays(periodStart, -151);
  const formerSecurity = addPerson('security', 'security-engineer', addDays(periodStart, -3000));
  formerSecurity.leftOn = addDays(periodStart, -900);

  const engineers: Person[] = [];
  const engineerCount = clamp(Math.round(customers / 1000), 6, 400);
  for (let i = 0; i < engineerCount; i++) {
    const role = i % 5 === 0 ? 'sre' : i % 7 === 0 ? 'data-engineer' : 'backend-engineer';
    const person = addPerson('engineering', role, hiredBefore());
    if (i % 3 === 0) person.principals.push(`adm-${person.id.slice(2)}`);
    engineers.push(person);
  }
  const csCount = clamp(Math.round(customers / 800), 5, 500);
  for (let i = 0; i < csCount; i++)
    addPerson('customer-service', i % 8 === 0 ? 'team-lead' : 'agent', hiredBefore());
  // A new support team in Vietnam starts partway through: legitimate staff from a new country.
  const vnStart = kstDate(timeline.startMs + Math.floor(timeline.days * 0.45) * DAY);
  const vnOffice = rng.pick(['viettel', 'vnpt'] as const);
  for (let i = 0; i < Math.max(2, Math.round(csCount / 4)); i++) {
    const person = addPerson('customer-service', 'agent', vnStart, '', 'VN');
    person.ip = addressAt(NETWORKS[vnOffice], rng.next() * 0.0001 + i * 0.00001);
  }
  for (let i = 0; i < clamp(Math.round(customers / 4000), 3, 60); i++)
    addPerson('marketing', 'analyst', hiredBefore());
  for (let i = 0; i < 3; i++) addPerson('finance', 'accountant', hiredBefore());
  for (let i = 0; i < 3; i++) addPerson('logistics', 'coordinator', hiredBefore());
  const securityLead = addPerson('security', 'security-engineer', hiredBefore());
  // Joiners and leavers during the period.
  const mid = (f: number) => kstDate(timeline.startMs + Math.floor(timeline.days * f) * DAY);
  addPerson('engineering', 'backend-engineer', mid(0.3));
  addPerson('customer-service', 'agent', mid(0.6));
  const leaverMidPeriod = addPerson('marketing', 'analyst', hiredBefore(), mid(0.35));
  const leaverCs = addPerson('customer-service', 'agent', hiredBefore());
  leaverCs.leftOn = mid(0.7);
  // Someone on a work trip to Japan, working from the hotel.
  const traveller = engineers[1] ?? engineers[0];
  const tripFrom = kstMidnight(mid(0.5));
  traveller.trip = {
    fromMs: tripFrom,
    toMs: tripFrom + 5 * DAY,
    ip: addressAt(NETWORKS.nttJapan, rng.next()),
  };

  const created = (daysBefore: number) => addDays(periodStart, -daysBefore);
  const rotation = kstDate(timeline.rotationMs);
  const appKey: SigningKey = {
    id: `k-cust-app-${created(1510).slice(0, 7)}`,
    purpose: 'customer-access-token',
    createdOn: created(1510),
    retiredOn: '',
    custodians: [departedAuthEngineer.id, engineers[0].id],
  };
  const webKeyOld: SigningKey = {
    id: `k-cust-web-${created(270).slice(0, 7)}`,
    purpose: 'customer-access-token',
    createdOn: created(270),
    retiredOn: rotation,
    custodians: [engineers[0].id, securityLead.id],
  };
  const webKeyNew: SigningKey = {
    id: `k-cust-web-${rotation}`,
    purpose: 'customer-access-token',
    createdOn: addDays(rotation, -2),
    retiredOn: '',
    custodians: [securityLead.id, engineers[2 % engineers.length].id],
  };
  const employeeKey: SigningKey = {
    id: `k-emp-${created(500).slice(0, 7)}`,
    purpose: 'employee-access-token',
    createdOn: created(500),
    retiredOn: '',
    custodians: [securityLead.id],
  };
  const serviceKey: SigningKey = {
    id: `k-svc-${created(700).slice(0, 7)}`,
    purpose: 'service-access-token',
    createdOn: created(700),
    retiredOn: '',
    custodians: [securityLead.id, engineers[3 % engineers.length].id],
  };
  const keys: SigningKey[] = [
    {
      id: `k-cust-${created(2300).slice(0, 7)}`,
      purpose: 'customer-access-token',
      createdOn: created(2300),
      retiredOn: created(1510),
      custodians: [formerSecurity.id, departedAuthEngineer.id],
    },
    {
      id: `k-emp-${created(1400).slice(0, 7)}`,
      purpose: 'employee-access-token',
      createdOn: created(1400),
      retiredOn: created(500),
      custodians: [formerSecurity.id],
    },
    appKey,
    webKeyOld,
    webKeyNew,
    employeeKey,
    serviceKey,
  ];
  const svcIp = () => addressAt(NETWORKS.services, rng.next());
  const services: ServiceAccount[] = [
    svc(
      'svc-shipping-label',
      'logistics-platform',
      'prints a shipping label for every order',
      svcIp(),
      'label-worker/2.8.1',
    ),
    svc(
      'svc-marketing-export',
      'marketing-platform',
      'weekly export of opted-in customers to the mailer',
      svcIp(),
      'audience-export/1.4.0',
    ),
    svc(
      'svc-fraud-check',
      'risk',
      'scores every order before payment capture',
      svcIp(),
      'fraud-scorer/5.2.3',
    ),
    svc('svc-notify', 'messaging', 'order and delivery notifications', svcIp(), 'notify-dispatcher/3.0.7'),
  ];
  return {
    people,
    services,
    keys,
    cast: { departedAuthEngineer, appKey, webKeyOld, webKeyNew, employeeKey, serviceKey, leaverMidPeriod },
  };
}

function svc(
  principal: string,
  ownerTeam: string,
  description: string,
  ip: string,
  ua: string,
): ServiceAccount {
  return { principal, ownerTeam, description, ip, ua: JSON.stringify(ua) };
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/** Whether a person is employed on the KST day containing `ms`. */
export function employedAt(person: Person, ms: number): boolean {
  const day = kstDate(ms);
  return person.hiredOn <= day && (person.leftOn === '' || day < person.leftOn);
}
