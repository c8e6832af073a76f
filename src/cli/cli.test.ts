import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

const bin = path.join(import.meta.dirname, '..', '..', 'bin', 'vigil.mjs');
const testdata = path.join(import.meta.dirname, '..', 'sources', 'ocsf', 'testdata');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-cli-'));

function vigil(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [bin, '--home', home, ...args], { input, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('vigil CLI', () => {
  after(() => fs.rmSync(home, { recursive: true, force: true }));

  test('ingest reads stdin and prints reconciled counts as JSON', () => {
    const lines = fs.readFileSync(path.join(testdata, 'api-activity.golden.jsonl'), 'utf8');
    const r = vigil(['ingest', '-', '--json'], `${lines}not json\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      read: 4,
      stored: 3,
      quarantined: 1,
      duplicates: 0,
      by_reason: { invalid_json: 1 },
    });
    const status = JSON.parse(vigil(['status', '--json']).stdout);
    assert.equal(status.events.total, 3);
    assert.deepEqual(status.quarantine.by_reason, { invalid_json: 1 });
    assert.equal(status.sources[0].source, '-');
  });

  test('event shows a stored line as read, with what Vigil does not map, and audits the read', () => {
    // Stored by the stdin test above.
    const first = fs.readFileSync(path.join(testdata, 'api-activity.golden.jsonl'), 'utf8').split('\n')[0]!;
    const r = vigil(['event', 'evt-api-1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const [record] = JSON.parse(r.stdout);
    assert.deepEqual([record.event_id, record.source_file, record.source_line], ['evt-api-1', '-', 1]);
    assert.equal(record.raw, first);
    assert.equal(
      record.unmapped,
      '{"category_uid":6,"src_endpoint":{"autonomous_system":{"name":"SK Telecom"}},"metadata":{"version":"1.1.0","product":{"name":"gateway"}},"severity_id":1}',
    );
    const text = vigil(['event', 'evt-api-1']);
    assert.match(text.stdout, /^evt-api-1 {2}2025-06-24 02:32:45\.123 {2}-:1\n {2}line: {5}\{/);
    const missing = vigil(['event', 'evt-api-1', 'no-such-event']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no stored event with id no-such-event/);
    assert.doesNotMatch(missing.stderr, /\n\s+at /);
    const audit = JSON.parse(vigil(['audit', '--json']).stdout) as { action: string; rows: number }[];
    assert.deepEqual(
      audit.filter((a) => a.action === 'event.read').map((a) => a.rows),
      [1, 1, 1],
    );
  });

  test('reference files load through ingest flags and show in status', () => {
    const r = vigil([
      'ingest',
      '--people',
      path.join(testdata, 'people.v1.csv'),
      '--keys',
      path.join(testdata, 'keys.csv'),
      '--catalog',
      path.join(testdata, 'catalog.yaml'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const status = JSON.parse(vigil(['status', '--json']).stdout);
    assert.deepEqual(
      status.reference.map((x: { kind: string; rows: number }) => [x.kind, x.rows]),
      [
        ['catalog', 9],
        ['keys', 2],
        ['people', 3],
      ],
    );
  });

  test('a malformed reference file fails with its position and no stack trace', () => {
    const r = vigil(['ingest', '--people', path.join(testdata, 'people.bad.csv')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /people\.bad\.csv:3 column country/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  test('a damaged gzip input is named, with what was stored, and no stack trace', () => {
    const damaged = path.join(home, 'damaged.jsonl.gz');
    fs.writeFileSync(damaged, 'not gzip at all');
    const r = vigil(['ingest', damaged]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /damaged\.jsonl\.gz: cannot be decompressed/);
    assert.match(r.stderr, /Nothing from it was stored/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  test('a missing file and an unknown flag print what is wrong and the usage', () => {
    const missing = vigil(['ingest', '/no/such/file.jsonl']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no such file or folder: \/no\/such\/file\.jsonl/);
    assert.match(missing.stderr, /usage: vigil ingest/);
    const folder = fs.mkdtempSync(path.join(home, 'no-logs-'));
    fs.writeFileSync(path.join(folder, 'notes.md'), 'not a log');
    const empty = vigil(['ingest', folder]);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /no log files in .*no-logs-/);
    const flag = vigil(['ingest', '--frobnicate']);
    assert.notEqual(flag.code, 0);
    assert.match(flag.stderr, /unknown option '--frobnicate'/);
    assert.match(flag.stderr, /Usage: vigil ingest/);
  });

  test('the store is readable by its owner only, an existing one included', () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-perm-'));
    try {
      fs.mkdirSync(path.join(other, 'store'), { mode: 0o755 });
      fs.chmodSync(path.join(other, 'store'), 0o755);
      const r = spawnSync(process.execPath, [bin, '--home', other, 'status', '--json'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(fs.statSync(path.join(other, 'store')).mode & 0o777, 0o700);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
    assert.equal(fs.statSync(path.join(home, 'store')).mode & 0o777, 0o700);
  });

  test('a second process on a busy workspace is told who holds it', async () => {
    // Hold the workspace from a child process, then try to use it.
    const holder = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `const { openWorkspace } = await import(${JSON.stringify(path.join(import.meta.dirname, '..', 'store', 'index.ts'))});
         const ws = await openWorkspace(${JSON.stringify(home)}, { command: 'serve --port 1' });
         console.log('ready'); setTimeout(async () => { await ws.close(); }, 8000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    const r = vigil(['status']);
    holder.kill();
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      new RegExp(`workspace ${home} is in use by process ${holder.pid} \\("vigil serve --port 1"`),
    );
  });
});
