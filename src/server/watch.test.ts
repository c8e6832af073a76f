import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { type RunningServer, startServer } from './server.ts';

const FIXTURE = path.join(import.meta.dirname, 'watch.fixture.ndjson');

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('vigil serve --watch', { timeout: 90_000 }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-watch-'));
  const home = path.join(tmp, 'ws');
  const inbox = path.join(tmp, 'inbox');
  let server: RunningServer | null = null;
  const count = async (s: RunningServer, sql: string) =>
    Number((await s.ws.engine.query<{ n: number }>(sql))[0]?.n ?? 0);
  const lines = fs.readFileSync(FIXTURE, 'utf8').trim().split('\n');
  /**
   * Stops the server if it runs, does `whileDown`, and starts it again on the same workspace and
   * folder.
   */
  const restart = async (whileDown = () => {}): Promise<RunningServer> => {
    await server?.close();
    server = null;
    whileDown();
    server = await startServer({
      home,
      port: 0,
      buildConsole: false,
      watch: inbox,
      warm: false,
      log: () => {},
    });
    return server;
  };

  after(async () => {
    await server?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('ingests files that appear in the folder, once, with the CLI counts', async () => {
    fs.mkdirSync(inbox, { recursive: true });
    fs.writeFileSync(path.join(inbox, 'ignored.txt.bak'), 'not a log file\n');
    const s = await restart();
    fs.writeFileSync(path.join(inbox, 'a.jsonl'), `${lines.join('\n')}\n`);
    await until(
      'the file to be ingested',
      async () => (await count(s, 'SELECT count() AS n FROM ingests')) === 1,
    );
    await s.live.idle();
    const [ledger] = await s.ws.engine.query<{
      read: number;
      stored: number;
      quarantined: number;
      source_file: string;
    }>('SELECT read, stored, quarantined, source_file FROM ingests');
    assert.equal(ledger?.source_file, path.join(fs.realpathSync(inbox), 'a.jsonl'));
    assert.equal(ledger?.read, lines.length);
    assert.equal(ledger?.quarantined, 1, 'the fixture has one broken line');
    assert.equal(ledger?.stored, lines.length - 1);
    assert.equal(await count(s, 'SELECT count() AS n FROM events'), lines.length - 1);

    // A second file is picked up too; nothing else in the folder is read twice.
    fs.writeFileSync(path.join(inbox, 'b.jsonl'), `${lines[0]}\n`);
    await until('the second file', async () => (await count(s, 'SELECT count() AS n FROM ingests')) === 2);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(await count(s, 'SELECT count() AS n FROM ingests'), 2);
  });

  it('does not re-read files the ledger already holds after a restart', async () => {
    const s = await restart();
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(await count(s, 'SELECT count() AS n FROM ingests'), 2);
  });

  it('reads files that arrived while it was down together, as one batch', async () => {
    const names = ['c.jsonl', 'd.jsonl', 'e.jsonl'];
    const s = await restart(() => {
      for (const [i, name] of names.entries()) fs.writeFileSync(path.join(inbox, name), `${lines[i]}\n`);
    });
    await until('the three files', async () => (await count(s, 'SELECT count() AS n FROM ingests')) === 5);
    const batches = await s.ws.engine.query<{ files: number; read: number }>(
      `SELECT count() AS files, sum(read) AS read FROM ingests
       WHERE source_file IN {files:Array(String)} GROUP BY ingest_id`,
      { files: names.map((n) => path.join(fs.realpathSync(inbox), n)) },
    );
    assert.deepEqual(batches, [{ files: 3, read: 3 }]);
  });

  it('does not let a damaged file among them hold back the others', async () => {
    const s = await restart(() => {
      fs.writeFileSync(path.join(inbox, 'f.jsonl'), `${lines[3]}\n`);
      const gz = zlib.gzipSync(`${lines[4]}\n`);
      fs.writeFileSync(path.join(inbox, 'g.jsonl.gz'), gz.subarray(0, gz.length - 8));
      fs.writeFileSync(path.join(inbox, 'h.jsonl'), `${lines[5]}\n`);
    });
    const dir = fs.realpathSync(inbox);
    const ingested = async () =>
      (
        await s.ws.engine.query<{ f: string }>(
          `SELECT DISTINCT source_file AS f FROM ingests WHERE source_file IN {files:Array(String)} ORDER BY f`,
          { files: ['f.jsonl', 'g.jsonl.gz', 'h.jsonl'].map((n) => path.join(dir, n)) },
        )
      ).map((r) => path.basename(r.f));
    await until('the two sound files', async () => (await ingested()).length === 2);
    assert.deepEqual(await ingested(), ['f.jsonl', 'h.jsonl']);
  });
});
