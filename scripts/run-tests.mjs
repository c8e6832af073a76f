#!/usr/bin/env node
// Runs every *.test.ts under src/ with node's test runner (through tsx), after installing the
// services the tests need (Chromium for the console tests; the ClickHouse cluster tests install and
// start their own servers). Each test file runs in its own process: chDB allows one data directory
// per process.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const only = process.argv.slice(2);

function findTests(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'dist') out.push(...findTests(p));
    } else if (entry.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

let files = findTests(path.join(root, 'src')).sort();
if (only.length > 0) files = files.filter((f) => only.some((o) => f.includes(o)));

const browserSetup = path.join(root, 'scripts', 'setup-browser.sh');
if (fs.existsSync(browserSetup) && files.some((f) => f.includes(`${path.sep}web${path.sep}`))) {
  const r = spawnSync('bash', [browserSetup], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('browser setup failed');
    process.exit(r.status ?? 1);
  }
}

const concurrency = Math.max(1, Math.min(2, os.cpus().length));
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit', cwd: root, env: { ...process.env, VIGIL_TEST: '1' } },
);
process.exit(result.status ?? 1);
