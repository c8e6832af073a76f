/**
 * `vigil serve` speed (not a test). Loopback only.
 *
 *   node --import tsx bench/server.bench.ts [intake] [page] [--lines N] [--senders N] [--events N]
 *
 * intake: a simulated company (20,000 customers, 2 days, every attack scenario: ~270k OCSF lines)
 *   is POSTed to /api/intake in event-time order, N lines per request (default 100,000) from S
 *   senders (default 2, taking bodies in order: the server keeps arrival order, so one body
 *   spools while the one before it is ingested), while the live loop runs detection behind the watermark. Prints
 *   events/s over HTTP, detection's backlog during the run (in windows) and how long it took to
 *   catch up after the last request; and, as the bare-engine figure, the same bodies ingested by
 *   `ingestInputs` from files in turn, with no HTTP and no detection, with the ratio.
 * page: the data the console loads for an incident page (incident, timeline, entities, scope
 *   summary, fetched in parallel as the console does) from a workspace of N events (default 10 M):
 *   a simulated week (2,000 customers, every scenario) ingested and detected, then its benign
 *   traffic copied inside the engine under new event, customer, token and subject ids until the
 *   store holds N events (detection is not re-run on the copies: they are not the attacker's).
 *   Then the open incidents' scopes and views are brought up to date as `vigil detect` leaves them
 *   (`precomputeViews`, timed), and a server is started with no background warm-up. Per incident
 *   it prints the first page (what a viewer waits for on a server that has just started) and the
 *   warm median, against the bare engine scanning the incident's time range for the same counts;
 *   and, for the first incident, the page with nothing stored (timeline, entities and scope
 *   computed on the spot, as for an incident no detection run or server has seen yet).
 *
 * Workspaces and simulated inputs are kept under bench/out/ (git-ignored) and reused.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { scopeIncident } from '../src/scope/index.ts';
import { domain } from '../src/server/domain.ts';
import { type RunningServer, startServer } from '../src/server/server.ts';
import { computeView, precomputeViews } from '../src/server/views.ts';
import { ingestInputs } from '../src/sources/index.ts';
import { withWorkspace } from '../src/store/index.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const OUT = path.join(ROOT, 'bench', 'out', 'server');
const VIGIL = path.join(ROOT, 'bin', 'vigil.mjs');
const args = process.argv.slice(2);
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const parts = args.filter((a) => a === 'intake' || a === 'page');
if (parts.length === 0) parts.push('intake', 'page');

function simulate(dir: string, customers: number, days: number, seed: number): void {
  if (fs.existsSync(path.join(dir, 'truth.json'))) return;
  fs.rmSync(dir, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [
      VIGIL,
      'simulate',
      '--out',
      dir,
      '--customers',
      String(customers),
      '--days',
      String(days),
      '--seed',
      String(seed),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

function reference(sim: string) {
  return {
    people: path.join(sim, 'people.csv'),
    keys: path.join(sim, 'keys.csv'),
    services: path.join(sim, 'services.csv'),
    catalog: path.join(sim, 'catalog.yaml'),
  };
}

function linesByTime(sim: string): string[] {
  const rows: { t: number; line: string }[] = [];
  for (const f of fs.readdirSync(path.join(sim, 'events')).sort()) {
    for (const line of fs.readFileSync(path.join(sim, 'events', f), 'utf8').split('\n')) {
      if (line) rows.push({ t: Number((JSON.parse(line) as { time: number }).time), line });
    }
  }
  return rows.sort((a, b) => a.t - b.t).map((r) => r.line);
}

const ms = (t0: number) => Date.now() - t0;
const rate = (n: number, millis: number) => Math.round((n / millis) * 1000);

async function intakeBench(): Promise<void> {
  const perRequest = flag('--lines', 100_000);
  const senders = flag('--senders', 2);
  const sim = path.join(OUT, 'sim-intake');
  simulate(sim, 20_000, 2, 5);
  const lines = linesByTime(sim);
  const bodies: string[] = [];
  for (let i = 0; i < lines.length; i += perRequest)
    bodies.push(`${lines.slice(i, i + perRequest).join('\n')}\n`);
  const bytes = bodies.reduce((n, b) => n + Buffer.byteLength(b), 0);
  console.log(
    `intake: ${lines.length.toLocaleString('en')} lines (${(bytes / 1e6).toFixed(0)} MB) in ${bodies.length} requests of ${perRequest.toLocaleString('en')}, ${senders} senders`,
  );

  // Bare engine: the same bodies as files, straight into ingest in turn: no HTTP, no detection.
  const bareHome = path.join(OUT, 'ws-intake-bare');
  fs.rmSync(bareHome, { recursive: true, force: true });
  const files = bodies.map((b, i) => {
    const f = path.join(OUT, `intake-${i}.jsonl`);
    fs.writeFileSync(f, b);
    return f;
  });
  const warmFile = path.join(OUT, 'intake-warm.jsonl');
  fs.writeFileSync(warmFile, `${lines[0]}\n`);
  const bare = await withWorkspace(bareHome, {}, async (ws) => {
    await ingestInputs(ws, [], { reference: reference(sim) });
    // Warm the engine (IP database load, first-query costs) the way the server's first request does.
    await ingestInputs(ws, [warmFile]);
    const t0 = Date.now();
    let read = 0;
    for (const f of files) read += (await ingestInputs(ws, [f])).counts.read;
    return { read, millis: ms(t0) };
  });
  fs.rmSync(bareHome, { recursive: true, force: true });

  const home = path.join(OUT, 'ws-intake');
  fs.rmSync(home, { recursive: true, force: true });
  await withWorkspace(home, {}, (ws) => ingestInputs(ws, [], { reference: reference(sim) }));
  // --no-detect isolates the HTTP path: the same server with detection switched off.
  const noDetect = args.includes('--no-detect');
  const server = await startServer({
    home,
    port: 0,
    buildConsole: false,
    maxPending: senders + 1,
    log: (l) => {
      if (process.env.BENCH_LOG && !l.includes('"route"')) console.log(`  server: ${l}`);
    },
    ...(noDetect
      ? {
          domain: {
            ...domain,
            advance: async () => ({ reached: null, windows: 0, incidents_new: 0, incidents_updated: 0 }),
          },
        }
      : {}),
  });
  try {
    const token = server.adminToken!;
    const post = (body: string) =>
      fetch(`${server.url}api/intake`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
        body,
      }).then(async (r) => {
        if (!r.ok) throw new Error(`intake answered ${r.status}: ${await r.text()}`);
        return (await r.json()) as { read: number; stored: number };
      });
    await post(`${lines[0]}\n`); // the same warm-up as the bare run
    let maxBacklog = 0;
    const sampler = setInterval(() => {
      maxBacklog = Math.max(maxBacklog, server.live.snapshot().detection_lag_windows);
    }, 200);
    const t0 = Date.now();
    let next = 0;
    let read = 0;
    await Promise.all(
      Array.from({ length: senders }, async () => {
        while (next < bodies.length) {
          const body = bodies[next++]!;
          const counts = await post(body);
          read += counts.read;
        }
      }),
    );
    const intakeMs = ms(t0);
    const atEnd = server.live.snapshot();
    const t1 = Date.now();
    await server.live.idle();
    const catchUp = ms(t1);
    clearInterval(sampler);
    const done = server.live.snapshot();
    const incidents = (await domain.listIncidents(server.ws.engine)).length;
    console.log(
      `  HTTP intake      ${rate(read, intakeMs).toLocaleString('en')} events/s  (${read.toLocaleString('en')} events in ${(intakeMs / 1000).toFixed(1)} s)`,
    );
    console.log(
      `  bare engine      ${rate(bare.read, bare.millis).toLocaleString('en')} events/s  (ingestInputs on the same bodies as files, no HTTP, no detection)`,
    );
    console.log(
      `  ratio            ${(rate(read, intakeMs) / rate(bare.read, bare.millis)).toFixed(2)} of the bare engine`,
    );
    console.log(
      `  detection        backlog at most ${maxBacklog} windows during intake, ${atEnd.detection_lag_windows} at the last response; caught up ${(catchUp / 1000).toFixed(1)} s later`,
    );
    console.log(
      `                   ${done.detection_runs} runs, judged up to ${done.detected_until} (watermark ${done.watermark}), ${incidents} incidents`,
    );
  } finally {
    await server.close();
    for (const f of [...files, warmFile]) fs.rmSync(f, { force: true });
  }
}

/** Copies benign events inside the engine under new ids until the store holds `target` events. */
async function amplify(home: string, sim: string, target: number): Promise<void> {
  const truth = JSON.parse(fs.readFileSync(path.join(sim, 'truth.json'), 'utf8')) as {
    scenarios: { attacker: { type: string; id: string }[] }[];
  };
  const attacker = truth.scenarios.flatMap((s) => s.attacker);
  const ips = JSON.stringify(attacker.filter((e) => e.type === 'ip').map((e) => e.id));
  const actors = JSON.stringify(attacker.filter((e) => e.type === 'actor').map((e) => e.id));
  await withWorkspace(home, {}, async (ws) => {
    const e = ws.engine;
    const [{ n } = { n: 0 }] = await e.query<{ n: number }>('SELECT count() AS n FROM events');
    if (n >= target) return;
    const [{ b } = { b: 1 }] = await e.query<{ b: number }>(
      `SELECT count() AS b FROM events
       WHERE NOT match(event_id, '-r[0-9]+$') AND NOT has(JSONExtract({ips:String}, 'Array(String)'), ${e.dialect.sqlIpToString('src_ip')})
         AND NOT has(JSONExtract({actors:String}, 'Array(String)'), actor_uid)`,
      { ips, actors },
    );
    const copies = Math.ceil((target - n) / Math.max(1, b));
    // Copies already made are numbered 1…k; new ones continue from there.
    const [{ k } = { k: 0 }] = await e.query<{ k: number }>(
      "SELECT max(toUInt32OrZero(extract(event_id, '-r([0-9]+)$'))) AS k FROM events",
    );
    const cols = (
      await e.query<{ name: string }>(
        "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'events' ORDER BY position",
      )
    ).map((c) => c.name);
    const renamed: Record<string, string> = {
      event_id: "concat(event_id, '-r', toString(r.number))",
      actor_uid:
        "if(actor_type = 'Customer' OR startsWith(actor_uid, 'c-'), concat(actor_uid, '-r', toString(r.number)), actor_uid)",
      token_id: "if(token_id = '', '', concat(token_id, '-r', toString(r.number)))",
      subject_ids: "arrayMap(s -> concat(s, '-r', toString(r.number)), subject_ids)",
    };
    const t0 = Date.now();
    for (let c = k + 1; c <= k + copies; c += 10) {
      await e.exec(
        `INSERT INTO events (${cols.join(', ')})
         SELECT ${cols.map((col) => `${renamed[col] ?? col} AS ${col}`).join(', ')}
         FROM (SELECT * FROM events WHERE NOT match(event_id, '-r[0-9]+$')) AS ev, numbers(${c}, ${Math.min(10, k + copies - c + 1)}) AS r
         WHERE NOT has(JSONExtract({ips:String}, 'Array(String)'), ${e.dialect.sqlIpToString('src_ip')})
           AND NOT has(JSONExtract({actors:String}, 'Array(String)'), actor_uid)`,
        { ips, actors },
      );
    }
    const [{ m } = { m: 0 }] = await e.query<{ m: number }>('SELECT count() AS m FROM events');
    console.log(
      `  amplified ${n.toLocaleString('en')} → ${m.toLocaleString('en')} events in ${(ms(t0) / 1000).toFixed(1)} s`,
    );
  });
}

async function pageBench(): Promise<void> {
  const target = flag('--events', 10_000_000);
  const sim = path.join(OUT, 'sim-page');
  simulate(sim, 2_000, 7, 11);
  const home = path.join(OUT, `ws-page-${target}`);
  if (!fs.existsSync(home)) {
    const t0 = Date.now();
    await withWorkspace(home, {}, async (ws) => {
      await ingestInputs(ws, [path.join(sim, 'events')], { reference: reference(sim) });
      await domain.advance(ws, {});
    });
    console.log(`  simulated week ingested and detected in ${(ms(t0) / 1000).toFixed(1)} s`);
  }
  await amplify(home, sim, target);
  await withWorkspace(home, {}, async (ws) => {
    const t0 = Date.now();
    const r = await precomputeViews(ws, { asker: { who: 'bench', role: 'admin' } });
    console.log(
      `  views as vigil detect leaves them: ${r.incidents} open incidents, ${r.computed} scopes and views computed in ${(ms(t0) / 1000).toFixed(1)} s`,
    );
  });
  let server: RunningServer | null = null;
  try {
    // No background warm-up: the first page is served from what `vigil detect` stored.
    server = await startServer({ home, port: 0, buildConsole: false, warm: false, log: () => {} });
    await server.live.idle();
    const token = server.adminToken ?? (await server.tokens.create('admin', 'bench', 'bench')).token;
    const get = async (p: string) => {
      const r = await fetch(`${server!.url}${p.slice(1)}`, { headers: { authorization: `Bearer ${token}` } });
      if (!r.ok) throw new Error(`${p} answered ${r.status}`);
      return r.json();
    };
    const [{ n: total } = { n: 0 }] = await server.ws.engine.query<{ n: number }>(
      'SELECT count() AS n FROM events',
    );
    const incidents = (await get('/api/incidents')) as {
      id: string;
      title: string;
      first_seen: string;
      last_seen: string;
    }[];
    console.log(`page: ${total.toLocaleString('en')} events, ${incidents.length} incidents`);
    for (const inc of incidents.slice(0, 4)) {
      const id = encodeURIComponent(inc.id);
      const parts = ['', '/timeline', '/entities', '/scope'];
      const slowest = new Map<string, number>();
      const page = () =>
        Promise.all(
          parts.map(async (s) => {
            const t = Date.now();
            await get(`/api/incidents/${id}${s}`);
            slowest.set(s || '/', Math.max(slowest.get(s || '/') ?? 0, ms(t)));
          }),
        );
      const t0 = Date.now();
      await page();
      const first = ms(t0);
      const firstParts = [...slowest].map(([k, v]) => `${k} ${v}`).join(', ');
      slowest.clear();
      const warm: number[] = [];
      for (let i = 0; i < 9; i++) {
        const t = Date.now();
        await page();
        warm.push(ms(t));
      }
      warm.sort((a, b) => a - b);
      const warmParts = [...slowest].map(([k, v]) => `${k} ${v}`).join(', ');
      // The bare engine over the same range: one pass counting requests and distinct subjects.
      const e = server.ws.engine;
      const tb = Date.now();
      await e.query(
        `SELECT count() AS n, uniqExactArray(subject_ids) AS s FROM events
         WHERE time >= ${e.dialect.sqlFromEpochMs('{lo:Int64}')} AND time <= ${e.dialect.sqlFromEpochMs('{hi:Int64}')}`,
        { lo: Date.parse(inc.first_seen), hi: Date.parse(inc.last_seen) },
      );
      const bareMs = ms(tb);
      const median = warm[Math.floor(warm.length / 2)]!;
      console.log(`  ${inc.id}  ${inc.title.slice(0, 70)}`);
      console.log(
        `    first page ${first} ms (${firstParts}); warm median ${median} ms, max ${warm.at(-1)} ms (slowest: ${warmParts})`,
      );
      console.log(
        `    bare engine scanning its range for requests and distinct subjects: ${bareMs} ms; warm/bare ${(median / Math.max(bareMs, 1)).toFixed(2)}`,
      );
      if (inc === incidents[0]) {
        // Nothing stored: what the page would cost computed on the spot (in parallel, as served).
        const full = (await get(`/api/incidents/${id}`)) as Parameters<typeof computeView>[1];
        const tc = Date.now();
        await Promise.all([
          computeView(e, full, 'timeline'),
          computeView(e, full, 'entities'),
          scopeIncident(server.ws, full, { recompute: true, who: 'bench' }),
        ]);
        console.log(`    with nothing stored (computed on the spot): ${ms(tc)} ms`);
      }
    }
  } finally {
    await server?.close();
  }
}

fs.mkdirSync(OUT, { recursive: true });
if (parts.includes('intake')) await intakeBench();
if (parts.includes('page')) await pageBench();
