import type { Operation } from './catalog.ts';
import type { Subject } from './world.ts';

/** An access token as the gateway sees it (JWT jti, kid, iat, exp). */
export interface Token {
  uid: string;
  kid: string;
  iat: number;
  exp: number;
  /** The `,"session":{…}` fragment, built once per token (a token is used many times). */
  json?: string;
  /** `json` encoded, for Authentication lines. */
  sessionBytes?: Buffer;
  /** Cached actor/session/origin fragment and what it was built for (see callerBytes). */
  caller?: Buffer;
  callerIp?: string;
  callerUa?: string;
  callerActor?: string;
}

function sessionJson(token: Token): string {
  token.json ??= flat(
    `,"session":{"uid":"${token.uid}","credential_uid":"${token.kid}","created_time":${token.iat},"expiration_time":${token.exp}}`,
  );
  return token.json;
}

/**
 * Concatenation leaves a tree of string pieces that V8 flattens later, slowly and with much
 * garbage; converting to a number forces the flattening now, while the pieces are fresh.
 */
function flat(text: string): string {
  Number(text);
  return text;
}

export type ActorType = 'Customer' | 'Employee' | 'Service';

export interface ApiCall {
  /** True time; the written `time` may differ when the gateway's clock is off. */
  t: number;
  actor: string;
  actorType: ActorType;
  token: Token | null;
  ip: string;
  /** JSON-quoted user agent. */
  ua: string;
  op: Operation;
  /** Concrete request path (template filled in). */
  path: string;
  subjects: readonly Subject[];
  /** Defaults to success. */
  failed?: boolean;
  code?: number;
}

export interface AuthCall {
  t: number;
  user: string;
  /** 1 Logon, 2 Logoff, 3 Authentication Ticket (token issued or refreshed). */
  activity: 1 | 2 | 3;
  failed?: boolean;
  token: Token | null;
  ip: string;
  ua: string;
  mfa: boolean;
}

/**
 * Encodes lines straight into a reusable byte buffer: no string per line, no joined chunk, no
 * conversion on write. Fragments that repeat (per operation, per token, per subject list) are
 * encoded once and copied; numbers and ids are written digit by digit. Output is exactly the
 * bytes of the JSON text the line stands for (UTF-8).
 */
export class LineWriter {
  buf: Buffer;
  pos = 0;

  constructor(size = 1 << 22) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Makes room for `n` more bytes at `pos`. */
  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A string, byte by byte while it is ASCII (short ids, paths, addresses). */
  text(s: string): void {
    const n = s.length;
    this.room(n * 3);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.pos = p + b.write(s.slice(i), p, 'utf8');
        return;
      }
      b[p++] = c;
    }
    this.pos = p;
  }

  /**
   * A string as a TabSeparated field: backslash, tab, newline (and, inside array literals, the
   * single quote) escaped with a backslash.
   */
  tsv(s: string): void {
    const n = s.length;
    let plain = true;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c === 92 || c === 9 || c === 10 || c === 13 || c === 39 || c === 0 || c >= 0x80) {
        plain = false;
        break;
      }
    }
    if (plain) this.text(s);
    else this.text(tsvEscape(s));
  }

  /** One byte (ASCII). */
  byte(c: number): void {
    this.room(1);
    this.buf[this.pos++] = c;
  }

  /** A number as `${n}` would spell it; non-negative safe integers digit by digit. */
  num(n: number): void {
    if (!(n >= 0 && n <= Number.MAX_SAFE_INTEGER && Math.floor(n) === n)) {
      this.text(String(n));
      return;
    }
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    this.room(digits);
    const b = this.buf;
    let p = this.pos + digits;
    this.pos = p;
    let x = n;
    do {
      const q = Math.floor(x / 10);
      b[--p] = 48 + (x - q * 10);
      x = q;
    } while (x > 0);
  }

  /** `ev-` + the sequence number in base 36, at least 7 digits (see `eventId`). */
  eventId(seq: number): void {
    if (!(seq >= 0 && seq < ID_LIMIT && Math.floor(seq) === seq)) {
      this.text(eventId(seq));
      return;
    }
    this.room(10);
    const b = this.buf;
    const p = this.pos;
    b[p] = 101; // e
    b[p + 1] = 118; // v
    b[p + 2] = 45; // -
    let x = seq;
    for (let i = p + 9; i >= p + 3; i--) {
      const q = Math.floor(x / 36);
      b[i] = BASE36[x - q * 36];
      x = q;
    }
    this.pos = p + 10;
  }
}

const TSV_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
  "'": "\\'",
  '\0': '\\0',
};

/** TabSeparated escaping (also valid inside a quoted array element). */
export function tsvEscape(s: string): string {
  return s.replace(/[\\\t\n\r'\0]/g, (c) => TSV_ESCAPES[c]!);
}

/** 36⁷: ids below it have exactly 7 base-36 digits once padded. */
const ID_LIMIT = 36 ** 7;
const BASE36 = Uint8Array.from('0123456789abcdefghijklmnopqrstuvwxyz', (c) => c.charCodeAt(0));

/** The event id of the stream's `seq`-th event. */
export function eventId(seq: number): string {
  return `ev-${seq.toString(36).padStart(7, '0')}`;
}

const enc = (s: string): Buffer => Buffer.from(s, 'utf8');
const OPEN = enc('{"time":');
const API_REQUEST = enc('"}},"api":{"request":{"uid":"req-');
const RESOURCES = enc('"}},"resources":[');
const CODE = enc('],"http_response":{"code":');
const LENGTH = enc(',"length":');
const METADATA = enc('},"metadata":{"uid":"');
const CLOSE = enc('"}}\n');
const IP = enc(',"src_endpoint":{"ip":"');
const USER_AGENT = enc('"},"http_request":{"user_agent":');
const MFA_TRUE = enc('},"is_mfa":true,"metadata":{"uid":"');
const MFA_FALSE = enc('},"is_mfa":false,"metadata":{"uid":"');
const QUOTE_BRACE = enc('"}');
/** `,"class_uid":3002,"activity_id":A,"status_id":S,"user":{"uid":"` by activity and status. */
const AUTH_HEADS = new Map<number, Buffer>();

/**
 * One OCSF API Activity line, with its newline. Every value is either a number, a pre-quoted
 * string, or an id we generated that needs no escaping.
 */
export function writeApiLine(
  w: LineWriter,
  c: ApiCall,
  time: number,
  seq: number,
  withOperation: boolean,
): void {
  const ok = !c.failed;
  const op = opBytes(c.op);
  const code = apiCode(c);
  const length = apiLength(c);
  w.bytes(OPEN);
  w.num(time);
  w.bytes(ok ? op.headOk : op.headFailed);
  const caller = callerBytes(c);
  if (caller) w.bytes(caller);
  else w.text(callerText(c));
  w.bytes(op.method);
  w.text(c.path);
  w.bytes(withOperation ? op.name : API_REQUEST);
  w.eventId(seq);
  w.bytes(RESOURCES);
  if (ok && c.subjects.length > 0) writeResources(w, c.subjects);
  w.bytes(CODE);
  w.num(code);
  w.bytes(LENGTH);
  w.num(length);
  w.bytes(METADATA);
  w.eventId(seq);
  w.bytes(CLOSE);
}

/** The HTTP status an API call is logged with. */
export function apiCode(c: ApiCall): number {
  return c.code ?? (c.failed ? 500 : 200);
}

/** The response length an API call is logged with. */
export function apiLength(c: ApiCall): number {
  return c.failed ? 90 + mod(c.t, 40) : c.op.bytes + c.subjects.length * 180 + mod(c.t, 97);
}

/**
 * `t % m` for a non-negative integer time: `%` on numbers past 2³¹ is a floating-point remainder
 * call; the quotient's floor is exact here (t < 2⁵³ and t/m is never within rounding of an integer
 * it is not), so this is the same value.
 */
function mod(t: number, m: number): number {
  if (!(t >= 0 && t <= Number.MAX_SAFE_INTEGER && Math.floor(t) === t)) return t % m;
  return t - Math.floor(t / m) * m;
}

interface OpBytes {
  headOk: Buffer;
  headFailed: Buffer;
  method: Buffer;
  name: Buffer;
}

const opFragments = new Map<Operation, OpBytes>();

/** Per-operation constant parts of a line. */
function opBytes(op: Operation): OpBytes {
  let f = opFragments.get(op);
  if (!f) {
    const head = `,"class_uid":6003,"activity_id":${op.activity},"status_id":`;
    f = {
      headOk: enc(`${head}1,`),
      headFailed: enc(`${head}2,`),
      method: enc(`,"http_method":"${op.method}","url":{"path":"`),
      name: enc(`"}},"api":{"operation":"${op.name}","request":{"uid":"req-`),
    };
    opFragments.set(op, f);
  }
  return f;
}

/**
 * Actor, session, address and user agent: constant for all calls made with one token from one
 * place, so encoded once per token (a session makes several calls). Null without a token.
 */
function callerBytes(c: ApiCall): Buffer | null {
  const token = c.token;
  if (!token) return null;
  if (token.caller && token.callerIp === c.ip && token.callerUa === c.ua && token.callerActor === c.actor) {
    return token.caller;
  }
  const bytes = enc(callerText(c));
  token.caller = bytes;
  token.callerIp = c.ip;
  token.callerUa = c.ua;
  token.callerActor = c.actor;
  return bytes;
}

function callerText(c: ApiCall): string {
  return (
    `"actor":{"user":{"uid":"${c.actor}","type":"${c.actorType}"}${c.token ? sessionJson(c.token) : ''}},` +
    `"src_endpoint":{"ip":"${c.ip}"},"http_request":{"user_agent":${c.ua}`
  );
}

const COMMA = 44;
const SUBJECT_OPEN = enc('{"uid":"');
const SUBJECT_CUSTOMER = enc('","type":"customer"}');
const SUBJECT_RECIPIENT = enc('","type":"recipient"}');

/**
 * The `resources[]` elements, `{"uid":"…","type":"…"}` each, written from the id: subjects are
 * made on demand (see `Customers`), so bytes cached per subject would only grow.
 */
function writeResources(w: LineWriter, subjects: readonly Subject[]): void {
  for (let i = 0; i < subjects.length; i++) {
    if (i > 0) w.byte(COMMA);
    const s = subjects[i];
    w.bytes(SUBJECT_OPEN);
    w.text(s.id);
    w.bytes(s.type === 'customer' ? SUBJECT_CUSTOMER : SUBJECT_RECIPIENT);
  }
}

/** One OCSF Authentication line, with its newline. */
export function writeAuthLine(w: LineWriter, c: AuthCall, time: number, seq: number): void {
  const status = c.failed ? 2 : 1;
  const key = c.activity * 4 + status;
  let head = AUTH_HEADS.get(key);
  if (!head) {
    head = enc(`,"class_uid":3002,"activity_id":${c.activity},"status_id":${status},"user":{"uid":"`);
    AUTH_HEADS.set(key, head);
  }
  w.bytes(OPEN);
  w.num(time);
  w.bytes(head);
  w.text(c.user);
  w.bytes(QUOTE_BRACE);
  if (c.token) w.bytes(sessionBytes(c.token));
  w.bytes(IP);
  w.text(c.ip);
  w.bytes(USER_AGENT);
  w.text(c.ua);
  w.bytes(c.mfa ? MFA_TRUE : MFA_FALSE);
  w.eventId(seq);
  w.bytes(CLOSE);
}

function sessionBytes(token: Token): Buffer {
  token.sessionBytes ??= enc(sessionJson(token));
  return token.sessionBytes;
}
