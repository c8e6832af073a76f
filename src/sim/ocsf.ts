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
  /** Cached actor/session/origin fragment and what it was built for (see callerJson). */
  caller?: string;
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
 * One OCSF API Activity line. Built as text: JSON.stringify of whole objects is several times
 * slower, and every value here is either a number, a pre-quoted string, or an id we generated
 * that needs no escaping.
 */
export function apiLine(c: ApiCall, time: number, eventId: string, withOperation: boolean): string {
  const ok = !c.failed;
  const op = opJson(c.op);
  let resources = '';
  if (ok && c.subjects.length > 0) resources = resourcesJson(c.subjects);
  const code = c.code ?? (ok ? 200 : 500);
  const length = ok ? c.op.bytes + c.subjects.length * 180 + (c.t % 97) : 90 + (c.t % 40);
  return flat(
    `{"time":${time},${op.head}"status_id":${ok ? 1 : 2},${callerJson(c)}${op.method}${c.path}"}},` +
      `"api":{${withOperation ? op.name : ''}"request":{"uid":"req-${eventId}"}},"resources":[${resources}],` +
      `"http_response":{"code":${code},"length":${length}},"metadata":{"uid":"${eventId}"}}`,
  );
}

interface OpJson {
  head: string;
  method: string;
  name: string;
}

const opFragments = new Map<Operation, OpJson>();

/** Per-operation constant parts of a line. */
function opJson(op: Operation): OpJson {
  let f = opFragments.get(op);
  if (!f) {
    f = {
      head: `"class_uid":6003,"activity_id":${op.activity},`,
      method: `,"http_method":"${op.method}","url":{"path":"`,
      name: `"operation":"${op.name}",`,
    };
    opFragments.set(op, f);
  }
  return f;
}

/**
 * Actor, session, address and user agent: constant for all calls made with one token from one
 * place, so built once per token (a session makes several calls).
 */
function callerJson(c: ApiCall): string {
  const token = c.token;
  if (token?.caller && token.callerIp === c.ip && token.callerUa === c.ua && token.callerActor === c.actor) {
    return token.caller;
  }
  const text = flat(
    `"actor":{"user":{"uid":"${c.actor}","type":"${c.actorType}"}${token ? sessionJson(token) : ''}},` +
      `"src_endpoint":{"ip":"${c.ip}"},"http_request":{"user_agent":${c.ua}`,
  );
  if (token) {
    token.caller = text;
    token.callerIp = c.ip;
    token.callerUa = c.ua;
    token.callerActor = c.actor;
  }
  return text;
}

const resourceLists = new WeakMap<readonly Subject[], string>();

/** Address books and export pages are returned many times: their JSON is kept per list. */
function resourcesJson(subjects: readonly Subject[]): string {
  if (subjects.length === 1) return subjects[0].json;
  let text = resourceLists.get(subjects);
  if (text === undefined) {
    text = subjects.map((s) => s.json).join(',');
    resourceLists.set(subjects, text);
  }
  return text;
}

export function authLine(c: AuthCall, time: number, eventId: string): string {
  const session = c.token ? sessionJson(c.token) : '';
  return flat(
    `{"time":${time},"class_uid":3002,"activity_id":${c.activity},"status_id":${c.failed ? 2 : 1},` +
      `"user":{"uid":"${c.user}"}${session},"src_endpoint":{"ip":"${c.ip}"},` +
      `"http_request":{"user_agent":${c.ua}},"is_mfa":${c.mfa},"metadata":{"uid":"${eventId}"}}`,
  );
}
