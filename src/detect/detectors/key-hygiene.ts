import type { DetectContext, Detector, EntityRef, Finding, WindowRange } from '../detector.ts';
import { alignDown, isoTime, numParam, sqlTime } from '../sql.ts';

/**
 * Key hygiene: a signing key that can still sign although someone who held it has left, or that
 * is older than the rotation policy. These are findings with no attack in sight: the risk exists
 * from the moment the condition starts. Each (key, condition) is reported once, in the window
 * where the condition began (or the first window judged, when it began earlier); the findings
 * table remembers what was already reported, so replays and live runs agree.
 */

interface KeyRow {
  key_id: string;
  purpose: string;
  created_on: string | null;
  retired_on: string | null;
  created_ms: number;
  retired_ms: number;
  custodian: string;
  custodian_left_on: string | null;
  left_ms: number;
  custodian_known: number;
}

interface Condition {
  key: KeyRow;
  /** e.g. `custodian_left:p-123` or `rotation_overdue`. */
  id: string;
  /** When the condition began, epoch ms. */
  since: number;
}

const SCORES = { custodian_left: 40, rotation_overdue: 20 } as const;

async function keyRows(ctx: DetectContext): Promise<KeyRow[]> {
  const midnight = (col: string) =>
    `if(${col} IS NULL, 0, toUnixTimestamp(toDateTime(assumeNotNull(${col}), {tz:String})) * 1000)`;
  return ctx.engine.query<KeyRow>(
    `SELECT k.key_id AS key_id, toString(k.purpose) AS purpose,
       toString(k.created_on) AS created_on, toString(k.retired_on) AS retired_on,
       ${midnight('k.created_on')} AS created_ms, ${midnight('k.retired_on')} AS retired_ms,
       c AS custodian, toString(p.left_on) AS custodian_left_on, ${midnight('p.left_on')} AS left_ms,
       p.person_id != '' AS custodian_known
     FROM keys_current AS k
     LEFT ARRAY JOIN k.custodians AS c
     LEFT JOIN people_current AS p ON p.person_id = c
     ORDER BY key_id, custodian`,
    { tz: ctx.settings.timezone },
  );
}

function conditions(rows: KeyRow[], rotationMs: number): Condition[] {
  const out: Condition[] = [];
  const seenKeys = new Set<string>();
  for (const r of rows) {
    if (r.custodian && r.left_ms > 0) {
      out.push({ key: r, id: `custodian_left:${r.custodian}`, since: Math.max(r.left_ms, r.created_ms) });
    }
    if (!seenKeys.has(r.key_id) && r.created_ms > 0) {
      seenKeys.add(r.key_id);
      out.push({ key: r, id: 'rotation_overdue', since: r.created_ms + rotationMs });
    }
  }
  return out;
}

/** Conditions already reported before this range. */
async function reported(ctx: DetectContext, start: Date): Promise<Set<string>> {
  const rows = await ctx.engine.query<{ key: string; condition: string }>(
    `SELECT DISTINCT entity_id AS key, arrayJoin(JSONExtract(evidence, 'conditions', 'Array(String)')) AS condition
     FROM findings WHERE detector = 'key-hygiene' AND window_start < {start:DateTime64(3, 'UTC')}`,
    { start: sqlTime(start) },
  );
  return new Set(rows.map((r) => `${r.key}\u0000${r.condition}`));
}

export const keyHygiene: Detector = {
  meta: {
    id: 'key-hygiene',
    title: 'Signing keys whose custodian left or that are past rotation',
    description:
      'Reports a token-signing key that can still sign although one of its custodians has left the company, ' +
      'and a key older than the rotation policy that was never retired. Either lets a copy of the private key ' +
      'mint valid tokens long after anyone should hold it, which is how a departed engineer can forge access.',
    false_positives: [
      'A planned rotation: a key retired on or before its custodian’s last day, or before it reaches rotation age, is never reported.',
      'A custodian who left but never held a copy of the key: keys.csv should then not list them; the finding names the custodian to check.',
      'Keys used only for testing: their purpose is shown; retire or remove them from keys.csv.',
    ],
    severity: 'medium',
    defaults: { rotation_days: 365 },
    lookback_seconds: 0,
  },

  async evaluate(ctx: DetectContext, range: WindowRange): Promise<Finding[]> {
    const rotationMs = numParam(ctx, 'rotation_days') * 86_400_000;
    const done = await reported(ctx, range.start);
    const startMs = range.start.getTime();
    const endMs = range.end.getTime();
    // Conditions of one key that begin in the same window make one finding.
    const byWindow = new Map<string, { ws: number; at: number; items: Condition[] }>();
    for (const c of conditions(await keyRows(ctx), rotationMs)) {
      if (done.has(`${c.key.key_id}\u0000${c.id}`)) continue;
      const at = Math.max(c.since, startMs);
      if (at >= endMs) continue;
      // Reported only while the key can still sign.
      if (c.key.retired_ms > 0 && at >= c.key.retired_ms) continue;
      const ws = alignDown(at, range.windowSeconds);
      const slot = `${ws} ${c.key.key_id}`;
      const group = byWindow.get(slot) ?? { ws, at, items: [] };
      group.items.push(c);
      byWindow.set(slot, group);
    }
    return [...byWindow.values()]
      .sort((a, b) => a.ws - b.ws || a.items[0].key.key_id.localeCompare(b.items[0].key.key_id))
      .map((g) => toFinding(g.items, g.ws, range.windowSeconds, rotationMs, g.at));
  },
};

function describe(
  c: Condition,
  rotationMs: number,
  at: number,
): { summary: string; detail: Record<string, unknown> } {
  const k = c.key;
  const since = isoTime(new Date(c.since));
  if (c.id === 'rotation_overdue') {
    const days = rotationMs / 86_400_000;
    const age = Math.floor((at - k.created_ms) / 86_400_000);
    return {
      summary: `is ${age} days old and not retired (policy: rotate every ${days} days)`,
      detail: { condition: c.id, since, key_age_days: age, rotation_days: days },
    };
  }
  return {
    summary: `can still sign although its custodian ${k.custodian} left on ${k.custodian_left_on}`,
    detail: { condition: c.id, since, custodian: k.custodian, custodian_left_on: k.custodian_left_on },
  };
}

function toFinding(
  found: Condition[],
  ws: number,
  windowSeconds: number,
  rotationMs: number,
  at: number,
): Finding {
  const items = [...found].sort((a, b) => a.id.localeCompare(b.id));
  const k = items[0].key;
  const described = items.map((c) => describe(c, rotationMs, at));
  const scores = items.map(
    (c) => SCORES[c.id === 'rotation_overdue' ? 'rotation_overdue' : 'custodian_left'],
  );
  const related: EntityRef[] = items
    .filter((c) => c.id !== 'rotation_overdue')
    .map((c) => ({ type: 'person', id: c.key.custodian }));
  return {
    detector: 'key-hygiene',
    entity: { type: 'key', id: k.key_id },
    window_start: isoTime(new Date(ws)),
    window_end: isoTime(new Date(ws + windowSeconds * 1000)),
    // The strongest condition, a little more for each further one.
    score: Math.max(...scores) + 5 * (scores.length - 1),
    summary: `Signing key ${k.key_id} (${k.purpose}) ${described.map((d) => d.summary).join('; and ')}`,
    evidence: {
      conditions: items.map((c) => c.id),
      details: described.map((d) => d.detail),
      key_id: k.key_id,
      purpose: k.purpose,
      created_on: k.created_on,
      retired_on: k.retired_on,
      example_event_ids: [],
      baseline: {
        roster: 'people.csv left_on (site time zone)',
        inventory: 'keys.csv created_on / retired_on',
        rotation_days: rotationMs / 86_400_000,
      },
    },
    related,
  };
}
