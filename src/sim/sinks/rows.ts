import { type ApiCall, type AuthCall, apiCode, apiLength, type LineWriter } from '../ocsf.ts';
import type { Subject } from '../world.ts';

/**
 * The base shard as typed rows instead of JSON lines: one TabSeparated row per event with exactly
 * the values the OCSF parser (`sources/ocsf/parse.ts`) extracts from the JSON line the JSON sink
 * writes for it, so the engine reads plain columns instead of parsing JSON. `workspace.test.ts`
 * checks every column against the parser's output for the same run.
 *
 * Not carried: issuer, reported country and ASN (the simulator never writes them, so they parse
 * to '' and 0) and `unmapped` (no line has keys outside the mapped ones).
 */
export const ROW_STRUCTURE = [
  'event_id String',
  'time_ms Int64',
  'class_uid UInt16',
  'activity_id UInt8',
  'status_id UInt8',
  'actor_uid String',
  'actor_type String',
  'token_id String',
  'key_id String',
  'token_created_ms Int64',
  'token_expires_ms Int64',
  'src_ip String',
  'http_method String',
  'url_path String',
  'user_agent String',
  'operation String',
  'request_id String',
  'subject_ids Array(String)',
  'subject_types Array(String)',
  'http_status UInt16',
  'response_bytes UInt64',
  'is_mfa Int8',
  'source_line UInt64',
].join(', ');

const TAB = 9;
const NEWLINE = 10;
const EMPTY_SUBJECTS = Buffer.from('[]\t[]\t');

/** User agents are kept JSON-quoted for the JSON lines; rows want the text. */
const agents = new Map<string, string>();
function agentText(quoted: string): string {
  let text = agents.get(quoted);
  if (text === undefined) {
    text = JSON.parse(quoted) as string;
    agents.set(quoted, text);
  }
  return text;
}

const QUOTE = 39;
const COMMA = 44;

/** `['id',…]\t['type',…]\t` (types lowercased, as the parser stores them). */
function writeSubjects(w: LineWriter, subjects: readonly Subject[]): void {
  w.byte(91);
  for (let i = 0; i < subjects.length; i++) {
    if (i > 0) w.byte(COMMA);
    w.byte(QUOTE);
    w.tsv(subjects[i].id);
    w.byte(QUOTE);
  }
  w.text(']\t[');
  for (let i = 0; i < subjects.length; i++) {
    if (i > 0) w.byte(COMMA);
    w.byte(QUOTE);
    w.tsv(lowerType(subjects[i].type));
    w.byte(QUOTE);
  }
  w.text(']\t');
}

const lowered = new Map<string, string>();
function lowerType(type: string): string {
  let l = lowered.get(type);
  if (l === undefined) {
    l = type.toLowerCase();
    lowered.set(type, l);
  }
  return l;
}

function field(w: LineWriter, s: string): void {
  w.tsv(s);
  w.byte(TAB);
}

function num(w: LineWriter, n: number): void {
  w.num(n);
  w.byte(TAB);
}

function eventIdField(w: LineWriter, seq: number, prefix: string): void {
  if (prefix) w.text(prefix);
  w.eventId(seq);
  w.byte(TAB);
}

/**
 * The row of `writeApiLine`'s line (same call, time, id, operation flag) up to its last column,
 * `source_line`: the stream appends that (`endRow`) once the day's order is known.
 */
export function writeApiRow(
  w: LineWriter,
  c: ApiCall,
  time: number,
  seq: number,
  withOperation: boolean,
): void {
  const ok = !c.failed;
  const token = c.token;
  eventIdField(w, seq, '');
  num(w, time);
  num(w, 6003);
  num(w, c.op.activity);
  num(w, ok ? 1 : 2);
  field(w, c.actor);
  field(w, c.actorType);
  field(w, token ? token.uid : '');
  field(w, token ? token.kid : '');
  num(w, token ? token.iat : 0);
  num(w, token ? token.exp : 0);
  field(w, c.ip);
  field(w, c.op.method.toUpperCase());
  field(w, c.path);
  field(w, agentText(c.ua));
  field(w, withOperation ? c.op.name : '');
  eventIdField(w, seq, 'req-');
  if (ok && c.subjects.length > 0) writeSubjects(w, c.subjects);
  else w.bytes(EMPTY_SUBJECTS);
  num(w, apiCode(c));
  num(w, apiLength(c));
  w.text('-1\t');
}

/** The row of `writeAuthLine`'s line up to `source_line` (see `writeApiRow`). */
export function writeAuthRow(w: LineWriter, c: AuthCall, time: number, seq: number): void {
  const token = c.token;
  eventIdField(w, seq, '');
  num(w, time);
  num(w, 3002);
  num(w, c.activity);
  num(w, c.failed ? 2 : 1);
  field(w, c.user);
  field(w, '');
  field(w, token ? token.uid : '');
  field(w, token ? token.kid : '');
  num(w, token ? token.iat : 0);
  num(w, token ? token.exp : 0);
  field(w, c.ip);
  field(w, '');
  field(w, '');
  field(w, agentText(c.ua));
  field(w, '');
  field(w, '');
  w.bytes(EMPTY_SUBJECTS);
  num(w, 0);
  num(w, 0);
  w.text(c.mfa ? '1\t' : '0\t');
}

/** Ends a row begun by `writeApiRow` / `writeAuthRow`: it is line `line` of its day. */
export function endRow(w: LineWriter, line: number): void {
  w.num(line);
  w.byte(NEWLINE);
}
