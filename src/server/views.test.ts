import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ingestInputs } from '../sources/index.ts';
import { withWorkspace } from '../store/index.ts';
import { type RunningServer, startServer } from './server.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const VIGIL = path.join(ROOT, 'bin', 'vigil.mjs');

/**
 * Stored incident views: `vigil detect` leaves every open incident scoped and its console views
 * computed; a server started afterwards serves them without computing, and serves a stored view
 * that new data made stale while it computes a fresh one.
 */
describe('stored incident views', { timeout: 240_000 }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-views-'));
  const home = path.join(tmp, 'ws');
  const sim = path.join(tmp, 'sim');
  let server: RunningServer | null = null;
  let token: string;

  const get = async (p: string) => {
    const r = await fetch(`${server!.url}${p.slice(1)}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200, `${p} answered ${r.status}`);
    return r.json() as Promise<unknown>;
  };
  const stored = async () =>
    (
      await server!.ws.engine.query<{ view: string; n: number }>(
        'SELECT view, count() AS n FROM incident_views GROUP BY view ORDER BY view',
      )
    ).map((r) => `${r.view}:${r.n}`);
  const scopeRuns = async () =>
    Number((await server!.ws.engine.query<{ n: number }>('SELECT count() AS n FROM scope_runs'))[0]?.n ?? 0);

  before(async () => {
    const args = ['--customers', '300', '--days', '2', '--seed', '5', '--scenario', 'coupang-forged-token'];
    await run(process.execPath, [VIGIL, 'simulate', '--out', sim, ...args]);
    await run(process.execPath, [
      VIGIL,
      '--home',
      home,
      'ingest',
      path.join(sim, 'events'),
      '--people',
      path.join(sim, 'people.csv'),
      '--keys',
      path.join(sim, 'keys.csv'),
      '--services',
      path.join(sim, 'services.csv'),
      '--catalog',
      path.join(sim, 'catalog.yaml'),
    ]);
  });

  after(async () => {
    await server?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('vigil detect scopes every open incident and stores its views', async () => {
    const { stdout } = await run(process.execPath, [VIGIL, '--home', home, 'detect', '--json']);
    const out = JSON.parse(stdout) as {
      incidents_new: number;
      views: { incidents: number; computed: number };
    };
    assert.ok(out.incidents_new >= 1, 'the forged-token attack is raised');
    assert.equal(out.views.incidents, out.incidents_new);
    assert.equal(out.views.computed, 3 * out.views.incidents, 'scope, timeline and entities of each');
    // A second run finds everything up to date.
    const again = JSON.parse(
      (await run(process.execPath, [VIGIL, '--home', home, 'detect', '--json'])).stdout,
    ) as {
      views: { computed: number };
    };
    assert.equal(again.views.computed, 0);
  });

  it('a fresh server serves the stored views and scope without computing', async () => {
    server = await startServer({ home, port: 0, buildConsole: false, warm: false, log: () => {} });
    token = (await server.tokens.create('analyst', 'views-test', 'test')).token;
    const views = await stored();
    const runs = await scopeRuns();
    const [inc] = (await get('/api/incidents')) as { id: string; subjects_exposed: number | null }[];
    assert.ok(inc);
    const id = encodeURIComponent(inc.id);
    const [timeline, entities, scope] = await Promise.all([
      get(`/api/incidents/${id}/timeline`),
      get(`/api/incidents/${id}/entities`),
      get(`/api/incidents/${id}/scope`),
    ]);
    assert.ok(((timeline as { points: unknown[] }).points.length ?? 0) > 0);
    assert.ok(((entities as { addresses: unknown[] }).addresses.length ?? 0) > 0);
    assert.equal((scope as { subjects: number }).subjects, inc.subjects_exposed);
    await server.live.idle();
    assert.deepEqual(await stored(), views, 'no view was computed again');
    assert.equal(await scopeRuns(), runs, 'no scope was computed again');
  });

  it('after new data it serves the stored view at once and stores a fresh one behind it', async () => {
    const before = await stored();
    const [inc] = (await get('/api/incidents')) as { id: string }[];
    const id = encodeURIComponent(inc!.id);
    const first = await get(`/api/incidents/${id}/timeline`);
    // One more event for an entity of the incident, stored behind the server's back.
    const extra = path.join(tmp, 'extra.jsonl');
    const line = fs
      .readFileSync(path.join(sim, 'events', fs.readdirSync(path.join(sim, 'events')).sort()[0]!), 'utf8')
      .split('\n')[0]!;
    const ev = JSON.parse(line) as { metadata: { uid: string } };
    ev.metadata.uid = 'views-test-extra';
    fs.writeFileSync(extra, `${JSON.stringify(ev)}\n`);
    await server!.close();
    await withWorkspace(home, {}, (ws) => ingestInputs(ws, [extra]));
    server = await startServer({ home, port: 0, buildConsole: false, warm: false, log: () => {} });
    const served = await get(`/api/incidents/${id}/timeline`);
    assert.deepEqual(served, first, 'the stored view is served while a fresh one is computed');
    for (let i = 0; i < 100; i++) {
      const now = await stored();
      if (now.join() !== before.join()) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const after = await stored();
    assert.notDeepEqual(after, before, 'a fresh timeline was computed and stored');
  });
});
