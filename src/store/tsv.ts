import { isIPv4, isIPv6 } from 'node:net';
import type { Row } from './engine.ts';

/**
 * Rows as TabSeparated text for servers whose JSON input cannot carry a value: 18.16 has no IPv6
 * type, so addresses live in FixedString(16), and JSON strings cannot hold arbitrary bytes. Cells
 * are encoded from the target column's type, so callers keep passing the same row objects to every
 * engine (an address as text, times as ISO or 'YYYY-MM-DD hh:mm:ss' strings or epoch seconds).
 */

export interface ColumnType {
  name: string;
  type: string;
}

/** 16 bytes of an IPv4 (mapped) or IPv6 address in text, or null if it is not one. */
export function ipBytes(text: string): Uint8Array | null {
  const ip = text.replace(/%.*$/, '');
  const out = new Uint8Array(16);
  if (isIPv4(ip)) {
    out[10] = 0xff;
    out[11] = 0xff;
    ip.split('.').forEach((p, i) => {
      out[12 + i] = Number(p);
    });
    return out;
  }
  if (!isIPv6(ip)) return null;
  let groups: number[] = [];
  const parse = (part: string): number[] => {
    if (part === '') return [];
    const words: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number);
        words.push((a << 8) | b, (c << 8) | d);
      } else words.push(Number.parseInt(g, 16));
    }
    return words;
  };
  const [left = '', right] = ip.split('::');
  if (right === undefined) groups = parse(left);
  else {
    const l = parse(left);
    const r = parse(right);
    groups = [...l, ...new Array<number>(8 - l.length - r.length).fill(0), ...r];
  }
  groups.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

const escapeTsv = (s: string): string =>
  s.replace(
    /[\\\t\n\r\0]/g,
    (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0' })[c] ?? c,
  );

/** A quoted literal as it appears inside an Array cell (no raw tabs or newlines). */
const quoteInArray = (s: string): string =>
  `'${s.replace(/[\\'\t\n\r\0]/g, (c) => ({ '\\': '\\\\', "'": "\\'", '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0' })[c] ?? c)}'`;

const isNumeric = (type: string): boolean => /^(U?Int\d+|Float\d+|Decimal|Enum)/.test(type);

function timeText(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'number') return String(Math.floor(v));
  return String(v);
}

function scalarText(v: unknown): string {
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'number')
    return Number.isNaN(v) ? 'nan' : Number.isFinite(v) ? String(v) : v > 0 ? 'inf' : '-inf';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'object' && v !== null && !(v instanceof Date)) return JSON.stringify(v);
  return String(v);
}

function arrayElement(v: unknown, type: string): string {
  const nullable = /^Nullable\((.*)\)$/.exec(type);
  if (v === null || v === undefined) return nullable ? 'NULL' : isNumeric(type) ? '0' : "''";
  const inner = nullable?.[1] ?? type;
  if (inner.startsWith('Array(')) return arrayCell(v, inner.slice(6, -1));
  if (isNumeric(inner)) return scalarText(v);
  if (inner.startsWith('Date')) return quoteInArray(timeText(v));
  return quoteInArray(scalarText(v));
}

function arrayCell(v: unknown, inner: string): string {
  const items = Array.isArray(v) ? v : [v];
  return `[${items.map((x) => arrayElement(x, inner)).join(',')}]`;
}

/** One TSV cell for a value of a ClickHouse type; a missing value becomes the type's default. */
export function tsvCell(v: unknown, type: string): string {
  const nullable = /^Nullable\((.*)\)$/.exec(type);
  if (v === null || v === undefined) {
    if (nullable) return '\\N';
    if (type.startsWith('Array(')) return '[]';
    if (isNumeric(type)) return '0';
    if (type.startsWith('DateTime')) return '0000-00-00 00:00:00';
    if (type === 'Date') return '0000-00-00';
    return '';
  }
  const t = nullable?.[1] ?? type;
  if (t.startsWith('Array(')) return arrayCell(v, t.slice(6, -1));
  if (t === 'FixedString(16)' && typeof v === 'string') {
    const bytes = ipBytes(v);
    if (bytes) return Array.from(bytes, (b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
  }
  if (t.startsWith('Date')) return escapeTsv(timeText(v));
  return escapeTsv(scalarText(v));
}

/** Rows as TSV over the columns any row names, in table order; unknown keys are an error. */
export function encodeTsv(
  rows: readonly Row[],
  table: readonly ColumnType[],
): { columns: string[]; text: string } {
  const present = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) present.add(k);
  const known = new Set(table.map((c) => c.name));
  const unknown = [...present].filter((k) => !known.has(k));
  if (unknown.length > 0) throw new Error(`no such column(s): ${unknown.join(', ')}`);
  const cols = table.filter((c) => present.has(c.name));
  const lines = rows.map((r) => cols.map((c) => tsvCell(r[c.name], c.type)).join('\t'));
  return { columns: cols.map((c) => c.name), text: `${lines.join('\n')}\n` };
}
