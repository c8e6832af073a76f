import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../cli/errors.ts';

/** One attack scenario as `truth.json` records it (spec/interface.md). */
export interface TruthScenario {
  id: string;
  kind: string;
  start: string;
  end: string;
  attacker: { type: string; id: string }[];
  affected?: Record<string, string[]>;
  affected_file?: string;
}

export interface Truth {
  start: string;
  end: string;
  scenarios: TruthScenario[];
}

export function readTruth(dir: string): Truth {
  const file = path.join(dir, 'truth.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`${file} not found`, 'vigil eval needs a folder written by vigil simulate.');
  }
  const truth = JSON.parse(text) as Truth;
  if (!Array.isArray(truth.scenarios)) throw new UserError(`${file} has no scenarios list`);
  return truth;
}

/** Affected subjects as JSON lines `{scenario, subject_id, categories}`, from the map or the side file. */
export function* affectedRows(dir: string, s: TruthScenario): Generator<string> {
  if (s.affected) {
    for (const [subject, categories] of Object.entries(s.affected)) {
      yield JSON.stringify({ scenario: s.id, subject_id: subject, categories });
    }
  }
  if (s.affected_file) {
    const text = fs.readFileSync(path.join(dir, s.affected_file), 'utf8');
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const row = JSON.parse(line) as { subject_id: string; categories: string[] };
      yield JSON.stringify({ scenario: s.id, subject_id: row.subject_id, categories: row.categories });
    }
  }
}
