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

interface Truth {
  scenarios: {
    id: string;
    start: string;
    end: string;
    attacker: { type: string; id: string }[];
    affected?: Record<string, string[]>;
  }[];
}

/** Event lines of the simulated days with their times, oldest first. */
function eventsByTime(dir: string): { time: number; line: string }[] {
  const out: { time: number; line: string }[] = [];
  for (const f of fs.readdirSync(path.join(dir, 'events')).sort()) {
    for (const line of fs.readFileSync(path.join(dir, 'events', f), 'utf8').split('\n')) {
      if (line) out.push({ time: Number((JSON.parse(line) as { time: number }).time), line });
    }
  }
  return out.sort((a, b) => a.time - b.time);
}

describe('vigil serve API', { timeout: 120_000 }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-api-'));
  const home = path.join(tmp, 'ws');
  const sim = path.join(tmp, 'sim');
  const logs: string[] = [];
  let server: RunningServer;
  let base: string;
  let admin: string;
  let analyst: string;
  let viewer: string;
  let truth: Truth;
  let events: { time: number; line: string }[];
  const posted = { read: 0, stored: 0, quarantined: 0, duplicates: 0 };

  const call = async (p: string, token?: string, init: RequestInit = {}) => {
    const res = await fetch(base + p, {
      ...init,
      headers: { ...(init.headers ?? {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body, headers: res.headers };
  };
  const intake = async (lines: string[], token = analyst) => {
    const r = await call('/api/intake', token, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: `${lines.join('\n')}\n`,
    });
    if (r.status === 200) {
      const c = r.body as typeof posted;
      for (const k of Object.keys(posted) as (keyof typeof posted)[]) posted[k] += c[k];
    }
    return r;
  };

  before(async () => {
    await run(process.execPath, [
      VIGIL,
      'simulate',
      '--out',
      sim,
      '--customers',
      '300',
      '--days',
      '2',
      '--seed',
      '7',
      '--scenario',
      'coupang-forged-token',
    ]);
    truth = JSON.parse(fs.readFileSync(path.join(sim, 'truth.json'), 'utf8')) as Truth;
    events = eventsByTime(sim);
    // Reference data is loaded up front, as an operator would; events arrive only over HTTP.
    await withWorkspace(home, {}, (ws) =>
      ingestInputs(ws, [], {
        reference: {
          people: path.join(sim, 'people.csv'),
          keys: path.join(sim, 'keys.csv'),
          services: path.join(sim, 'services.csv'),
          catalog: path.join(sim, 'catalog.yaml'),
        },
      }),
    );
    server = await startServer({
      home,
      port: 0,
      buildConsole: false,
      limits: { intakeBytes: 2 * 1024 * 1024, loginPerMinute: 5 },
      log: (l) => {
        logs.push(l);
        if (process.env.DEBUG_TEST) process.stderr.write(`${l}\n`);
      },
    });
    base = server.url.replace(/\/$/, '');
    assert.ok(server.adminToken, 'the first start prints an admin token');
    admin = server.adminToken;
    analyst = (await server.tokens.create('analyst', 'ana', 'test')).token;
    viewer = (await server.tokens.create('viewer', 'vic', 'test')).token;
  });

  after(async () => {
    await server?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('answers 401 without a valid token on every API route', async () => {
    for (const p of [
      '/api/status',
      '/api/incidents',
      '/api/incidents/x',
      '/api/incidents/x/scope',
      '/api/posture',
      '/api/health',
      '/api/audit',
      '/api/tokens',
      '/api/me',
      '/api/nope',
    ]) {
      assert.equal((await call(p)).status, 401, p);
      assert.equal((await call(p, 'vgl_not-a-real-token')).status, 401, p);
      assert.equal((await call(p, admin.slice(0, -1))).status, 401, p);
    }
    const r = await call('/api/intake', undefined, {
      method: 'POST',
      body: '{}\n',
      headers: { 'content-type': 'application/x-ndjson' },
    });
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer');
  });

  it('sends security headers', async () => {
    const r = await call('/api/me', viewer);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      token_id: (r.body as { token_id: string }).token_id,
      name: 'vic',
      role: 'viewer',
    });
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal(r.headers.get('cache-control'), null, '/api/me carries no data worth caching rules');
  });

  it('ingests POSTed lines with the CLI counts: read = stored + quarantined + duplicates', async () => {
    type Counts = {
      read: number;
      stored: number;
      quarantined: number;
      duplicates: number;
      by_reason: Record<string, number>;
    };
    const first = events.slice(0, 50).map((e) => e.line);
    const r = await intake(first);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const c0 = r.body as Counts;
    assert.equal(c0.read, 50);
    assert.ok(c0.stored >= 45, 'the simulator repeats a few events on purpose, not many');
    assert.equal(c0.read, c0.stored + c0.quarantined + c0.duplicates);
    // Broken JSON and an event without its required fields are quarantined with reasons; an event
    // already stored is a duplicate; nothing is dropped silently.
    const c = (await intake(['{"broken', first[0]!, '{"time": 1748736000000, "class_uid": 6003}']))
      .body as Counts;
    assert.deepEqual([c.read, c.stored, c.duplicates, c.quarantined], [3, 0, 1, 2]);
    assert.equal(
      Object.values(c.by_reason).reduce((a, b) => a + b, 0),
      2,
    );
    // The same body again stores nothing new.
    const again = (await intake(first)).body as Counts;
    assert.deepEqual([again.read, again.stored, again.duplicates], [50, 0, 50]);
    // gzip bodies are accepted too.
    const { gzipSync } = await import('node:zlib');
    const gz = await call('/api/intake', analyst, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
      body: gzipSync(
        `${events
          .slice(50, 60)
          .map((e) => e.line)
          .join('\n')}\n`,
      ),
    });
    assert.equal(gz.status, 200);
    const g = gz.body as Counts;
    assert.equal(g.read, 10);
    assert.ok(g.stored > 0);
    assert.equal(g.read, g.stored + g.quarantined + g.duplicates);
    for (const k of Object.keys(posted) as (keyof typeof posted)[]) posted[k] += g[k];
  });

  it('refuses intake from viewers, oversized bodies and other content types', async () => {
    assert.equal((await intake([events[0]!.line], viewer)).status, 403);
    const big = 'x'.repeat(3 * 1024 * 1024);
    assert.equal((await intake([big])).status, 413);
    const r = await call('/api/intake', analyst, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: 'x',
    });
    assert.equal(r.status, 415);
  });

  it('turns a POSTed attack into an incident within one window of event time', async () => {
    const scenario = truth.scenarios[0]!;
    const attackStart = Date.parse(scenario.start);
    const windowMs = server.live.windowSeconds * 1000;
    const attackerIds = new Set(scenario.attacker.map((e) => `${e.type}:${e.id}`));
    const matching = async () => {
      const list = (await call('/api/incidents', viewer)).body as {
        id: string;
        detected_at: string;
        first_seen: string;
        entities: { type: string; id: string }[];
      }[];
      return list.filter((i) => i.entities.some((e) => attackerIds.has(`${e.type}:${e.id}`)));
    };
    // History before the attack, in one go: detection judges it, nothing about the attacker yet.
    const before = events.filter((e) => e.time < attackStart).slice(60);
    for (let i = 0; i < before.length; i += 2000)
      assert.equal((await intake(before.slice(i, i + 2000).map((e) => e.line))).status, 200);
    await server.live.idle();
    assert.deepEqual(await matching(), []);
    // Then live: five minutes of event time per request, as a shipper would send them.
    const rest = events.filter((e) => e.time >= attackStart);
    let raisedAt: number | null = null;
    for (let t = attackStart; t <= rest.at(-1)!.time && raisedAt === null; t += 5 * 60_000) {
      const batch = rest.filter((e) => e.time >= t && e.time < t + 5 * 60_000).map((e) => e.line);
      if (batch.length) assert.equal((await intake(batch)).status, 200);
      await server.live.idle();
      if ((await matching()).length > 0) raisedAt = t + 5 * 60_000;
    }
    assert.ok(raisedAt !== null, 'the attack became an incident');
    if (process.env.DEBUG_TEST)
      console.log('raised after posting up to', new Date(raisedAt).toISOString(), 'attack', scenario.start);
    const [inc] = await matching();
    const detected = Date.parse(inc!.detected_at);
    // detected_at is the end of the window that raised it: within one window of the attack's start
    // (window-aligned), and the server got there while the events were still arriving.
    const startWindowEnd = Math.floor(attackStart / windowMs) * windowMs + windowMs;
    if (process.env.DEBUG_TEST) console.log('detected', inc!.detected_at, 'first_seen', inc!.first_seen);
    assert.ok(
      detected <= startWindowEnd + windowMs,
      `detected at ${inc!.detected_at}, attack from ${scenario.start}`,
    );
    const health = (await call('/api/health', viewer)).body as {
      detection: { last_window_end: string; runs: number };
    };
    assert.ok(health.detection.runs > 1);
    assert.ok(Date.parse(health.detection.last_window_end) >= detected);
  });

  it('reconciles what was posted with the workspace status', async () => {
    const s = (await call('/api/status', viewer)).body as {
      ingests: typeof posted;
      events: { total: number };
    };
    assert.equal(s.ingests.read, posted.read);
    assert.equal(s.ingests.stored, posted.stored);
    assert.equal(s.ingests.quarantined, posted.quarantined);
    assert.equal(s.ingests.duplicates, posted.duplicates);
    assert.equal(s.events.total, posted.stored);
  });

  it('shows scope summaries to viewers but subject rows and exports only to analysts, audited', async () => {
    const [inc] = (await call('/api/incidents', viewer)).body as { id: string }[];
    assert.ok(inc);
    const id = encodeURIComponent(inc.id);
    const summary = await call(`/api/incidents/${id}/scope`, viewer);
    assert.equal(summary.status, 200);
    const s = summary.body as { subjects: number; rows?: unknown };
    assert.ok(s.subjects > 0);
    assert.equal(s.rows, undefined);
    assert.equal((await call(`/api/incidents/${id}/scope?subjects=10`, viewer)).status, 403);
    assert.equal((await call(`/api/incidents/${id}/export?format=csv`, viewer)).status, 403);
    assert.equal((await call('/api/audit', viewer)).status, 403);

    const rows = await call(`/api/incidents/${id}/scope?subjects=5`, analyst);
    assert.equal(rows.status, 200);
    assert.equal((rows.body as { rows: unknown[] }).rows.length, Math.min(5, s.subjects));
    const csv = await call(`/api/incidents/${id}/export?format=csv`, analyst);
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-disposition') ?? '', /attachment/);
    const lines = String(csv.body).trim().split('\n');
    assert.equal(lines.length - 1, s.subjects, 'one CSV row per exposed subject');

    const audit = (await call('/api/audit', analyst)).body as {
      action: string;
      who: string;
      rows: number;
      incident: string;
    }[];
    const mine = audit.filter((a) => a.who.startsWith('ana (') && a.incident === inc.id);
    assert.ok(mine.some((a) => a.action === 'scope.subjects' && a.rows === Math.min(5, s.subjects)));
    assert.ok(mine.some((a) => a.action === 'scope.export' && a.rows === s.subjects));
    assert.ok(
      !audit.some((a) => a.who.startsWith('vic (') && a.action !== 'scope.compute'),
      'refused reads leave no read entry',
    );
  });

  it('lets only admins manage tokens', async () => {
    const body = JSON.stringify({ role: 'viewer', name: 'new one' });
    const headers = { 'content-type': 'application/json' };
    assert.equal((await call('/api/tokens', analyst, { method: 'POST', body, headers })).status, 403);
    const created = await call('/api/tokens', admin, { method: 'POST', body, headers });
    assert.equal(created.status, 201);
    const t = created.body as { token: string; token_id: string };
    assert.equal((await call('/api/me', t.token)).status, 200);
    const list = (await call('/api/tokens', admin)).body as Record<string, unknown>[];
    assert.ok(
      list.every((x) => !('token' in x) && !('token_sha256' in x)),
      'no token or hash leaves the server',
    );
    assert.equal((await call(`/api/tokens/${t.token_id}`, admin, { method: 'DELETE' })).status, 200);
    assert.equal((await call('/api/me', t.token)).status, 401);
  });

  it('rate-limits the login path', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 7; i++) codes.push((await call('/api/login', viewer, { method: 'POST' })).status);
    assert.deepEqual(codes.slice(0, 5), [200, 200, 200, 200, 200]);
    assert.equal(codes.at(-1), 429);
  });

  it('tells a CLI command on the same workspace where the server is', async () => {
    const r = await run(process.execPath, [VIGIL, '--home', home, 'status']).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(r.code, 2);
    assert.match(r.stderr, /in use/);
    assert.ok(r.stderr.includes(server.url), r.stderr);
  });

  it('keeps tokens and subject ids out of the server log', () => {
    assert.ok(logs.length > 20);
    const text = logs.join('\n');
    for (const t of [admin, analyst, viewer]) assert.ok(!text.includes(t));
    assert.ok(!text.includes('vgl_'));
    const subjects = Object.keys(truth.scenarios[0]!.affected ?? {});
    assert.ok(subjects.length > 0);
    for (const s of subjects) assert.ok(!text.includes(s), 'a subject id reached the log');
    assert.ok(!/c-\d{8}/.test(text), 'a customer id reached the log');
    for (const line of logs.filter((l) => l.startsWith('{"t"') && l.includes('"route"'))) {
      assert.deepEqual(Object.keys(JSON.parse(line) as object), ['t', 'method', 'route', 'status', 'ms']);
    }
  });
});
