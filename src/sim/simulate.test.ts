import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Category, OPERATIONS, type Operation } from './catalog.ts';
import { type ScenarioChoice, type SimulationOptions, simulate, truthDocument } from './simulate.ts';
import { MemorySink } from './sink.ts';

/** The parts of an OCSF line the checks read; the checks themselves verify presence and types. */
interface Line {
  time: number;
  class_uid: number;
  activity_id: number;
  status_id: number;
  actor: {
    user: { uid: string; type: string };
    session: { uid: string; credential_uid: string; created_time: number; expiration_time: number };
  };
  user: { uid: string };
  session: { uid: string; credential_uid: string };
  src_endpoint: { ip: string };
  http_request: { http_method: string; url: { path: string } };
  api: { operation?: string };
  resources: { uid: string; type: string }[];
  http_response: { code: number };
  is_mfa: boolean;
  metadata: { uid: string };
}

interface TruthScenario {
  id: string;
  kind: string;
  start: string | null;
  end: string | null;
  attacker: { type: string; id: string }[];
  affected: Record<string, Category[]>;
  params: Record<string, number>;
}

const SMALL: SimulationOptions = {
  customers: 400,
  days: 8,
  seed: 7,
  start: '2025-06-01',
  intensity: 1,
  scenarios: [],
};

async function run(opts: Partial<SimulationOptions> & { scenarios?: ScenarioChoice[] }) {
  const options = { ...SMALL, ...opts };
  if (!opts.scenarios) {
    const { SCENARIOS } = await import('./scenarios/index.ts');
    options.scenarios = SCENARIOS.map((s) => ({ name: s.name }));
  }
  const sink = new MemorySink();
  const result = await simulate(options, sink);
  const lines = sink.lines();
  const truth = truthDocument(options, result) as unknown as { scenarios: TruthScenario[] };
  return { lines, events: lines.map((l) => JSON.parse(l) as Line), truth, result };
}

const all = await run({});

const TEMPLATES = (Object.values(OPERATIONS) as Operation[]).map((op) => ({
  op,
  re: new RegExp(`^${op.path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
}));

/** Categories an event returned, from the catalog: by operation, else by METHOD + path template. */
function categoriesOf(e: Line): readonly Category[] {
  const name = e.api?.operation;
  if (name) return (OPERATIONS as Record<string, Operation>)[name].returns;
  const hit = TEMPLATES.find(
    (t) => t.op.method === e.http_request.http_method && t.re.test(e.http_request.url.path),
  );
  assert.ok(hit, `path maps in the catalog: ${e.http_request.url.path}`);
  return hit.op.returns;
}

describe('simulate', () => {
  it('is deterministic: same options and seed give identical output', async () => {
    const again = await run({});
    assert.equal(again.lines.length, all.lines.length);
    assert.ok(again.lines.every((l, i) => l === all.lines[i]));
    assert.deepEqual(again.truth, all.truth);
    const other = await run({ seed: 8 });
    assert.notEqual(other.lines[100], all.lines[100]);
  });

  it('writes every required field with the right type', () => {
    for (const e of all.events) {
      assert.equal(typeof e.time, 'number');
      assert.ok(e.status_id === 1 || e.status_id === 2);
      assert.equal(typeof e.src_endpoint.ip, 'string');
      assert.equal(typeof e.metadata.uid, 'string');
      if (e.class_uid === 6003) {
        assert.ok([1, 2, 3, 4, 99].includes(e.activity_id));
        assert.equal(typeof e.actor.user.uid, 'string');
        assert.ok(['Customer', 'Employee', 'Service'].includes(e.actor.user.type));
        assert.equal(typeof e.actor.session.uid, 'string');
        assert.equal(typeof e.actor.session.credential_uid, 'string');
        assert.ok(e.actor.session.expiration_time > e.actor.session.created_time);
        assert.ok(Array.isArray(e.resources));
        for (const r of e.resources) assert.ok(r.type === 'customer' || r.type === 'recipient');
        assert.equal(typeof e.http_request.url.path, 'string');
        assert.equal(typeof e.http_response.code, 'number');
        categoriesOf(e); // operation or mappable path
      } else {
        assert.equal(e.class_uid, 3002);
        assert.ok([1, 2, 3].includes(e.activity_id));
        assert.equal(typeof e.user.uid, 'string');
        assert.equal(typeof e.is_mfa, 'boolean');
        if (e.activity_id === 3) assert.equal(typeof e.session.credential_uid, 'string');
      }
    }
  });

  it('has the mess of real logs: URL-only events, duplicates, rough time order', () => {
    const api = all.events.filter((e) => e.class_uid === 6003);
    const urlOnly = api.filter((e) => !e.api.operation).length / api.length;
    assert.ok(urlOnly > 0.015 && urlOnly < 0.05, `url-only share ${urlOnly}`);
    assert.ok(new Set(all.lines).size < all.lines.length, 'some deliveries are duplicated');
    let backwards = 0;
    for (let i = 1; i < all.events.length; i++)
      if (all.events[i].time < all.events[i - 1].time - 5000) backwards++;
    assert.ok(backwards < all.events.length * 0.01, `${backwards} events far out of order`);
  });

  it('issues every benign token and never a forged one', () => {
    const issued = new Set(
      all.events.filter((e) => e.class_uid === 3002 && e.activity_id === 3).map((e) => e.session.uid),
    );
    const forged = new Set(
      all.truth.scenarios
        .filter((s) => s.kind === 'forged-token')
        .flatMap((s) => s.attacker.filter((a) => a.type === 'token').map((a) => a.id)),
    );
    assert.ok(forged.size > 0);
    for (const e of all.events.filter((x) => x.class_uid === 6003)) {
      const token = e.actor.session.uid;
      assert.equal(issued.has(token), !forged.has(token), `token ${token}`);
    }
  });

  it('records as truth exactly what the attack events returned', () => {
    for (const s of all.truth.scenarios) {
      assert.ok(s.start && s.end, `${s.id} ran`);
      const tokens = new Set(s.attacker.filter((a) => a.type === 'token').map((a) => a.id));
      const actors = new Set(s.attacker.filter((a) => a.type === 'actor').map((a) => a.id));
      const from = Date.parse(s.start);
      const to = Date.parse(s.end);
      const mine = (e: Line) =>
        tokens.size > 0
          ? tokens.has(e.actor.session.uid)
          : actors.has(e.actor.user.uid) && e.time >= from && e.time <= to;
      const expected: Record<string, Set<Category>> = {};
      for (const e of all.events) {
        if (e.class_uid !== 6003 || e.status_id !== 1 || !mine(e)) continue;
        for (const r of e.resources) {
          expected[r.uid] ??= new Set();
          for (const c of categoriesOf(e)) expected[r.uid].add(c);
        }
      }
      const recomputed = Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, [...v].sort()]));
      assert.deepEqual(s.affected, recomputed, s.id);
      assert.ok(Object.keys(s.affected).length > 0, `${s.id} exposed someone`);
    }
  });

  it('exposes address-book recipients, who are not customers', () => {
    const forged = all.truth.scenarios.find((s) => s.id === 'coupang-forged-token')!;
    assert.ok(Object.keys(forged.affected).some((id) => id.startsWith('r-')));
    assert.ok(Object.values(forged.affected).some((c) => c.includes('door_code')));
  });

  it('lets parameters change what a scenario does', async () => {
    const only = (params?: Record<string, number>) => [{ name: 'coupang-forged-token', params }];
    const full = await run({ scenarios: only(), days: 14 });
    const half = await run({ scenarios: only(), days: 14, intensity: 0.5 });
    const count = (r: typeof full) => r.truth.scenarios[0].attacker.filter((a) => a.type === 'token').length;
    assert.ok(count(half) < count(full), `${count(half)} < ${count(full)}`);
    const ips = (r: typeof full) => {
      const tokens = new Set(
        r.truth.scenarios[0].attacker.filter((a) => a.type === 'token').map((a) => a.id),
      );
      return new Set(r.events.filter((e) => tokens.has(e.actor?.session?.uid)).map((e) => e.src_endpoint.ip))
        .size;
    };
    const many = await run({ scenarios: only({ addresses: 12 }), days: 14 });
    assert.ok(ips(many) > ips(full), `${ips(many)} > ${ips(full)}`);
    assert.equal(many.truth.scenarios[0].params.addresses, 12);
  });

  it('benign only with no scenarios', async () => {
    const benign = await run({ scenarios: [], days: 2 });
    assert.equal(benign.truth.scenarios.length, 0);
    assert.ok(benign.events.length > 1000);
  });
});

describe('writeSimulation', () => {
  it('a rerun into the same folder removes what a killed run left (day files, spill folder)', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { writeSimulation } = await import('./simulate.ts');
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-sim-rerun-'));
    try {
      const events = path.join(out, 'events');
      fs.mkdirSync(path.join(events, '.vigil-sim-stale'), { recursive: true });
      fs.writeFileSync(path.join(events, '.vigil-sim-stale', 'runs'), 'half a day');
      fs.writeFileSync(path.join(events, '2031-01-01.jsonl'), '{}\n');
      await writeSimulation(out, { ...SMALL, customers: 50, days: 2 }, false);
      assert.deepEqual(fs.readdirSync(events).sort(), ['2025-06-01.jsonl', '2025-06-02.jsonl']);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
