import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Detector } from '../detector.ts';
import { detectors } from '../registry.ts';
import { SEVERITIES } from '../risk.ts';

/**
 * One bar for every registered detector (the detection-rules sweep): registering a detector is
 * enough to have it checked here.
 */

const here = import.meta.dirname;

/** A detector's file: named after its id (`fan-out.ts`, or `fanout.ts` without the hyphens). */
function fileOf(d: Detector, suffix = '.ts'): string {
  const names = [d.meta.id, d.meta.id.replace(/-/g, '')].map((n) => path.join(here, `${n}${suffix}`));
  return names.find((p) => fs.existsSync(p)) ?? names[0];
}

function check(name: string, fn: (d: Detector) => void): void {
  for (const d of detectors) test(`${d.meta.id}: ${name}`, () => fn(d));
}

test('the registry is not empty and ids are unique', () => {
  assert.ok(detectors.length >= 3);
  const ids = detectors.map((d) => d.meta.id);
  assert.equal(new Set(ids).size, ids.length);
});

check('id is kebab-case and names its file', (d) => {
  assert.match(d.meta.id, /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
  assert.ok(fs.existsSync(fileOf(d)), `detectors/${d.meta.id}.ts`);
});

check('has a test file beside it', (d) => {
  assert.ok(fs.existsSync(fileOf(d, '.test.ts')), `detectors/${d.meta.id}.test.ts`);
});

check('title and description say what it catches', (d) => {
  assert.ok(d.meta.title.length >= 10 && d.meta.title.length <= 80, 'title of 10–80 characters');
  assert.ok(!d.meta.title.endsWith('.'), 'title without a full stop');
  assert.match(d.meta.description, /^[A-Z].{30,}[.!?]$/s, 'description: at least one full sentence');
});

check('false positives are listed, each a sentence', (d) => {
  assert.ok(d.meta.false_positives.length > 0);
  for (const fp of d.meta.false_positives) assert.ok(fp.length >= 20 && /[.!?]$/.test(fp), fp);
});

check('severity is one of low, medium, high, critical', (d) => {
  assert.ok(SEVERITIES.includes(d.meta.severity));
});

check('parameters have defaults, snake_case names, and are read by the detector', (d) => {
  for (const [name, value] of Object.entries(d.meta.defaults)) {
    assert.match(name, /^[a-z][a-z0-9_]*$/, name);
    assert.ok(['number', 'string', 'boolean'].includes(typeof value), name);
    if (typeof value === 'number') assert.ok(Number.isFinite(value), name);
  }
  const source = fs.readFileSync(fileOf(d), 'utf8');
  for (const name of Object.keys(d.meta.defaults)) assert.ok(source.includes(name), `${name} is used`);
});

check('lookback and lookahead are finite and non-negative', (d) => {
  assert.ok(Number.isFinite(d.meta.lookback_seconds) && d.meta.lookback_seconds >= 0);
  const ahead = d.lookaheadSeconds?.(d.meta.defaults) ?? 0;
  assert.ok(Number.isFinite(ahead) && ahead >= 0 && ahead <= 3600, `lookahead ${ahead}`);
});
