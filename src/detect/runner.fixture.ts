import { apiCall, authEvent } from './testing.ts';

/**
 * A day and a half of a small shop for runner tests: customers logging in and reading their
 * profile, a forged-token campaign on k-app from 03:12 on 2025-06-24, and a departed employee.
 */
const iso = (ms: number) => new Date(ms).toISOString();
const T0 = Date.parse('2025-06-23T00:00:00Z');
const MIN = 60_000;

export function benign(fromMs = T0, toMs = Date.parse('2025-06-24T12:00:00Z')): string[] {
  const lines: string[] = [];
  let n = 0;
  for (let t = fromMs; t < toMs; t += 7 * MIN) {
    const c = `c-${n % 13}`;
    const jti = `jti-b${n}`;
    const ip = `198.51.100.${n % 50}`;
    lines.push(
      authEvent({
        time: iso(t),
        user: c,
        token: jti,
        kid: 'k-app',
        iat: iso(t),
        exp: iso(t + 60 * MIN),
        ip,
        id: `a-b${n}`,
      }),
    );
    lines.push(apiCall({ time: iso(t + 2 * MIN), actor: c, token: jti, kid: 'k-app', ip, id: `e-b${n}` }));
    n++;
  }
  return lines;
}

export function forged(
  fromMs = Date.parse('2025-06-24T03:12:00Z'),
  toMs = Date.parse('2025-06-24T06:00:00Z'),
  tag = 'f',
): string[] {
  const lines: string[] = [];
  let n = 0;
  for (let t = fromMs; t < toMs; t += 20 * MIN) {
    const victim = `c-v${tag}${n}`;
    lines.push(
      apiCall({
        time: iso(t),
        actor: victim,
        token: `jti-${tag}${n}`,
        kid: 'k-app',
        // Minted by the attacker: a plausible iat/exp, but no issuance record.
        iat: iso(t - 30_000),
        exp: iso(t + 60 * MIN),
        ip: n % 2 ? '203.0.113.7' : '203.0.113.8',
        ua: 'python-requests/2.31',
        op: 'GetShippingAddresses',
        subjects: [victim, `r-${tag}${n}`],
        id: `e-${tag}${n}`,
      }),
    );
    n++;
  }
  return lines;
}

export function departed(time = '2025-06-23T15:10:00Z'): string[] {
  return [
    apiCall({
      time,
      actor: 'emp-bob',
      op: 'AdminSearch',
      subjects: ['c-3', 'c-4'],
      ip: '203.0.113.99',
      id: 'e-bob',
    }),
  ];
}
