import fs from 'node:fs';
import { parse } from 'yaml';
import { UserError } from '../../cli/errors.ts';

/**
 * Where a JSON access log (nginx, Envoy) keeps each event field. A proxy's log format is whatever
 * its operators wrote, so every field is a list of candidate JSON keys (dots step into nested
 * objects); the first candidate present and not empty or `-` wins.
 *
 * A field-map file (YAML or JSON, `vigil ingest --format nginx --field-map FILE`) overrides keys of
 * the format's defaults one by one; unknown keys are rejected so a typo cannot pass silently.
 *
 * ```yaml
 * principal: jwt_claim_sub          # one key …
 * time: [ts, time_iso8601]          # … or candidates in order
 * forwarded_for: http_x_forwarded_for   # the client is the first hop of this header, when set
 * subjects: resp_subjects           # ids of the people the response returned, if the proxy logs them
 * subject_type: customer
 * ```
 */
export const FIELD_KEYS = [
  'time',
  'client_ip',
  'forwarded_for',
  'method',
  'path',
  'status',
  'principal',
  'principal_type',
  'token_id',
  'key_id',
  'user_agent',
  'bytes',
  'request_id',
  'subjects',
] as const;

export type FieldKey = (typeof FIELD_KEYS)[number];

/** Fields without which a line is not an event (quarantined as `missing_field`). */
export const REQUIRED_FIELDS: readonly FieldKey[] = [
  'time',
  'client_ip',
  'method',
  'path',
  'status',
  'principal',
];

export interface FieldMap {
  fields: Record<FieldKey, readonly string[]>;
  /** Subject type of every id in `subjects`: `customer` or `recipient`. */
  subject_type: string;
}

/** JSON keys a field map may name: no quotes or other characters that would need escaping. */
const KEY_PATH = /^[A-Za-z0-9_@$:-]+(\.[A-Za-z0-9_@$:-]+)*$/;

/** Applies a parsed field-map document over `base`; throws a UserError naming each problem. */
export function applyFieldMap(file: string, doc: unknown, base: FieldMap): FieldMap {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new UserError(
      `field map ${file} is not a mapping`,
      'Write one key per event field, e.g. `principal: jwt_sub`.',
    );
  }
  const out: FieldMap = { fields: { ...base.fields }, subject_type: base.subject_type };
  const problems: string[] = [];
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    if (key === 'subject_type') {
      if (value === 'customer' || value === 'recipient') out.subject_type = value;
      else problems.push(`subject_type must be "customer" or "recipient"`);
      continue;
    }
    if (!(FIELD_KEYS as readonly string[]).includes(key)) {
      problems.push(`unknown key "${key}" (known: ${[...FIELD_KEYS, 'subject_type'].join(', ')})`);
      continue;
    }
    const field = key as FieldKey;
    const list = value === null ? [] : typeof value === 'string' ? [value] : value;
    if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) {
      problems.push(`${key} must be a JSON key or a list of them`);
      continue;
    }
    const bad = list.filter((v) => !KEY_PATH.test(v));
    if (bad.length > 0) {
      problems.push(`${key}: ${bad.map((b) => JSON.stringify(b)).join(', ')} is not a plain key path`);
      continue;
    }
    if (list.length === 0 && REQUIRED_FIELDS.includes(field)) {
      problems.push(`${key} is required and cannot be empty`);
      continue;
    }
    out.fields[field] = list;
  }
  if (problems.length > 0) {
    throw new UserError(
      `field map ${file}: ${problems.join('; ')}`,
      'See src/sources/adapters/README.md for the field-map keys.',
    );
  }
  return out;
}

/** Reads a field-map file (YAML or JSON) over `base`. */
export function loadFieldMap(file: string, base: FieldMap): FieldMap {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`cannot read field map ${file}`, 'Check the --field-map path.');
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new UserError(`field map ${file} is not valid YAML or JSON: ${(e as Error).message}`);
  }
  return applyFieldMap(file, doc, base);
}
