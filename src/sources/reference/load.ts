import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../cli/errors.ts';
import type { Engine, Row } from '../../store/index.ts';
import { dateCell, listCell, readCsv, requiredCell, uniqueCheck } from './csv.ts';
import { ReferenceFileError, type ReferenceProblem } from './errors.ts';

export type ReferenceKind = 'people' | 'keys' | 'services' | 'catalog' | 'settings';

export interface ReferenceLoad {
  kind: ReferenceKind;
  file: string;
  rows: number;
}

/**
 * Appends a validated snapshot: its rows tagged with a new load sequence, and a ledger row.
 * Validation happens before this is called, so a bad file never leaves part of itself behind.
 */
export async function appendSnapshot(
  engine: Engine,
  kind: ReferenceKind,
  file: string,
  table: string,
  rows: Row[],
): Promise<ReferenceLoad> {
  const loadSeq = Date.now() * 1000 + (process.hrtime()[1] % 1000);
  const sha256 = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  if (rows.length > 0) {
    await engine.insert(
      table,
      rows.map((r) => ({ ...r, load_seq: loadSeq })),
    );
  }
  await engine.insert('reference_loads', [
    {
      load_seq: loadSeq,
      kind,
      source_file: path.resolve(file),
      rows: rows.length,
      sha256,
      loaded_at: Math.floor(Date.now() / 1000),
    },
  ]);
  return { kind, file, rows: rows.length };
}

function check(file: string, problems: ReferenceProblem[]): void {
  if (problems.length > 0) throw new ReferenceFileError(file, problems);
}

const COUNTRY = /^[A-Z]{2}$/;

/** people.csv: the HR roster. A newer roster adds a snapshot; older ones stay for history. */
export async function loadPeople(engine: Engine, file: string): Promise<ReferenceLoad> {
  const required = ['person_id', 'principal_ids', 'department', 'role', 'country', 'hired_on', 'left_on'];
  const rows = readCsv(file, required);
  const problems: ReferenceProblem[] = [];
  uniqueCheck(rows, 'person_id', problems);
  const out: Row[] = rows.map((row) => {
    const country = (row.values.country ?? '').toUpperCase();
    if (country !== '' && !COUNTRY.test(country)) {
      problems.push({
        line: row.line,
        column: 'country',
        message: `"${row.values.country}" is not an ISO 3166 alpha-2 code`,
      });
    }
    const hired = dateCell(row, 'hired_on', problems, true);
    const left = dateCell(row, 'left_on', problems, true);
    if (hired && left && left < hired) {
      problems.push({ line: row.line, column: 'left_on', message: `${left} is before hired_on ${hired}` });
    }
    return {
      person_id: requiredCell(row, 'person_id', problems),
      principal_ids: listCell(row, 'principal_ids'),
      department: row.values.department ?? '',
      role: row.values.role ?? '',
      country,
      hired_on: hired,
      left_on: left,
    };
  });
  const principals = new Map<string, number>();
  for (const [i, r] of out.entries()) {
    for (const p of r.principal_ids as string[]) {
      const first = principals.get(p);
      const line = rows[i]!.line;
      if (first !== undefined) {
        problems.push({
          line,
          column: 'principal_ids',
          message: `principal "${p}" also belongs to the person on line ${first}`,
        });
      } else principals.set(p, line);
    }
  }
  check(file, problems);
  return appendSnapshot(engine, 'people', file, 'people', out);
}

/** keys.csv: the inventory of token-signing keys. */
export async function loadKeys(engine: Engine, file: string): Promise<ReferenceLoad> {
  const rows = readCsv(file, ['key_id', 'purpose', 'created_on', 'retired_on', 'custodians']);
  const problems: ReferenceProblem[] = [];
  uniqueCheck(rows, 'key_id', problems);
  const out: Row[] = rows.map((row) => {
    const created = dateCell(row, 'created_on', problems, true);
    const retired = dateCell(row, 'retired_on', problems, true);
    if (created && retired && retired < created) {
      problems.push({
        line: row.line,
        column: 'retired_on',
        message: `${retired} is before created_on ${created}`,
      });
    }
    return {
      key_id: requiredCell(row, 'key_id', problems),
      purpose: row.values.purpose ?? '',
      created_on: created,
      retired_on: retired,
      custodians: listCell(row, 'custodians'),
    };
  });
  check(file, problems);
  return appendSnapshot(engine, 'keys', file, 'signing_keys', out);
}

/** services.csv: principals that belong to no person. */
export async function loadServices(engine: Engine, file: string): Promise<ReferenceLoad> {
  const rows = readCsv(file, ['principal_id', 'owner_team', 'description']);
  const problems: ReferenceProblem[] = [];
  uniqueCheck(rows, 'principal_id', problems);
  const out: Row[] = rows.map((row) => ({
    principal_id: requiredCell(row, 'principal_id', problems),
    owner_team: row.values.owner_team ?? '',
    description: row.values.description ?? '',
  }));
  check(file, problems);
  return appendSnapshot(engine, 'services', file, 'services', out);
}

export function assertReadable(file: string): void {
  if (!fs.existsSync(file)) throw new UserError(`no such file: ${file}`, 'Check the path.');
}
