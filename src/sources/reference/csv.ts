import fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import { UserError } from '../../cli/errors.ts';
import { ReferenceFileError, type ReferenceProblem } from './errors.ts';

export interface CsvRow {
  line: number;
  values: Record<string, string>;
}

/** Reads a CSV with a header row and checks the header names every required column. */
export function readCsv(file: string, required: readonly string[]): CsvRow[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`cannot read ${file}`, 'Check the path.');
  }
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, { columns: true, info: true, skip_empty_lines: true, trim: true, bom: true });
  } catch (err) {
    const e = err as { lines?: number; message: string };
    throw new ReferenceFileError(file, [{ line: e.lines ?? 1, message: e.message }]);
  }
  const header = Object.keys(records[0]?.record ?? {});
  const missing = required.filter((c) => !header.includes(c));
  if (records.length > 0 && missing.length > 0) {
    throw new ReferenceFileError(file, [
      { line: 1, message: `header lacks column(s): ${missing.join(', ')}` },
    ]);
  }
  return records.map((r) => ({ line: r.info.lines, values: r.record }));
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Validates an ISO date cell; empty is allowed when `optional`. Returns the date or null. */
export function dateCell(
  row: CsvRow,
  column: string,
  problems: ReferenceProblem[],
  optional: boolean,
): string | null {
  const v = row.values[column] ?? '';
  if (v === '') {
    if (!optional)
      problems.push({ line: row.line, column, message: 'is empty; an ISO date (YYYY-MM-DD) is required' });
    return null;
  }
  const d = new Date(`${v}T00:00:00Z`);
  if (!ISO_DATE.test(v) || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== v) {
    problems.push({ line: row.line, column, message: `"${v}" is not an ISO date (YYYY-MM-DD)` });
    return null;
  }
  return v;
}

export function requiredCell(row: CsvRow, column: string, problems: ReferenceProblem[]): string {
  const v = row.values[column] ?? '';
  if (v === '') problems.push({ line: row.line, column, message: 'is empty' });
  return v;
}

export function listCell(row: CsvRow, column: string): string[] {
  return (row.values[column] ?? '')
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Reports a value seen twice in a column that must be unique. */
export function uniqueCheck(rows: CsvRow[], column: string, problems: ReferenceProblem[]): void {
  const seen = new Map<string, number>();
  for (const row of rows) {
    const v = row.values[column] ?? '';
    if (v === '') continue;
    const first = seen.get(v);
    if (first !== undefined)
      problems.push({ line: row.line, column, message: `"${v}" repeats line ${first}` });
    else seen.set(v, row.line);
  }
}
