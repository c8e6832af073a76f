import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { detectContext, loadReference } from '../context.ts';
import type { DetectContext, Finding } from '../detector.ts';
import { fixtureWorkspace, type TestWorkspace } from '../testing.ts';
import { credentialStuffing } from './credential-stuffing.ts';

/**
 * A week of ordinary logons (a carrier NAT address and a hosting address failing ~4 % of the time),
 * then on 2025-06-10 two rented addresses replaying a password list from 00:00 to 05:59, getting
 * into one account each; the carrier address keeps failing at its usual rate that day.
 */

const DAY = 86_400_000;
const T0 = Date.parse('2025-06-03T00:00:00Z');
const ATTACK = Date.parse('2025-06-10T00:00:00Z');
const NAT = '1.96.0.7';
const OFFICE_HOST = '4.144.0.9';
const STUFFERS = ['4.144.0.21', '4.144.0.22'];

let seq = 0;
const logon = (t: number, user: string, ip: string, failed: boolean) =>
  JSON.stringify({
    time: t,
    class_uid: 3002,
    activity_id: 1,
    status_id: failed ? 2 : 1,
    user: { uid: user },
    src_endpoint: { ip },
    metadata: { uid: `cs-${++seq}` },
  });

function lines(): string[] {
  const out: string[] = [];
  // Eight days of ordinary traffic: 300 people a day behind the NAT, 40 at the hosting address.
  for (let d = 0; d < 8; d++)
    for (let i = 0; i < 300; i++) {
      const t = T0 + d * DAY + i * 250_000;
      out.push(logon(t, `c-n${(d * 300 + i) % 1000}`, NAT, i % 25 === 0));
      if (i < 40) out.push(logon(t + 1000, `c-h${i}`, OFFICE_HOST, i % 25 === 1));
    }
  // One person hammering their own account: many failures, one account.
  for (let i = 0; i < 60; i++) out.push(logon(ATTACK + i * 60_000, 'c-forgetful', '4.144.0.30', true));
  // The campaign: each address tries a new account every 6 minutes for six hours.
  STUFFERS.forEach((ip, k) => {
    for (let i = 0; i < 60; i++) {
      const t = ATTACK + i * 360_000 + k * 1000;
      out.push(logon(t, `leak-${k}-${i}`, ip, i !== 30));
    }
  });
  return out;
}

let ws: TestWorkspace;
let ctx: DetectContext;
let findings: Finding[];
const range = (start: number, end: number) => ({
  start: new Date(start),
  end: new Date(end),
  windowSeconds: 300,
});

before(async () => {
  ws = await fixtureWorkspace({ events: lines() });
  ctx = detectContext(ws.engine, credentialStuffing, await loadReference(ws.engine));
  findings = await credentialStuffing.evaluate(ctx, range(T0, ATTACK + DAY));
});
after(async () => ws?.dispose());

test('addresses failing across many accounts are flagged hourly while active, and only they', () => {
  const ips = new Set(findings.map((f) => f.entity.id));
  assert.deepEqual([...ips].sort(), STUFFERS);
  // 10 accounts an hour each: the floor of 20 is passed at the 02:00 point; still failing until 05:54.
  const ends = [...new Set(findings.map((f) => f.window_end))].sort();
  assert.deepEqual(
    ends,
    ['02:00', '03:00', '04:00', '05:00', '06:00'].map((h) => `2025-06-10T${h}:00Z`),
  );
});

test('the addresses of one hour are one campaign: each lists the others', () => {
  for (const f of findings) {
    const other = STUFFERS.find((ip) => ip !== f.entity.id);
    assert.deepEqual(f.related, [{ type: 'ip', id: other }]);
    assert.equal(f.evidence.campaign_addresses, 2);
  }
});

test('the finding explains itself against the site’s own failure rate', () => {
  const last = findings.filter(
    (f) => f.window_end === '2025-06-10T06:00:00Z' && f.entity.id === STUFFERS[0],
  )[0];
  assert.ok(last);
  assert.equal(last.evidence.failed_accounts, 59);
  assert.equal(last.evidence.accounts_logged_in, 1);
  assert.equal(last.evidence.attempts, 60);
  const base = last.evidence.baseline as { rate: number; group: string };
  assert.equal(base.group, 'network class hosting');
  assert.ok(base.rate > 0.02 && base.rate < 0.06, `hosting baseline ${base.rate}`);
  assert.equal((last.evidence.example_event_ids as string[]).length, 3);
  assert.ok(last.score >= 70, 'many accounts and a takeover');
  const first = findings.find((f) => f.window_end === '2025-06-10T02:00:00Z')!;
  assert.ok(first.score < last.score, 'grows with the accounts tried');
});

test('a live window gives the same findings as the replay of its day', async () => {
  const at = Date.parse('2025-06-10T04:00:00Z');
  const live = await credentialStuffing.evaluate(ctx, range(at - 300_000, at));
  const replay = findings.filter((f) => f.window_end === '2025-06-10T04:00:00Z');
  assert.deepEqual(live, replay);
  assert.deepEqual(await credentialStuffing.evaluate(ctx, range(at, at + 300_000)), [], 'not on the hour');
});

test('a higher failure bar silences it', async () => {
  const strict = { ...ctx, params: { ...ctx.params, min_accounts: 100 } };
  assert.deepEqual(await credentialStuffing.evaluate(strict, range(T0, ATTACK + DAY)), []);
});
