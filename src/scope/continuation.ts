import type { Engine } from '../store/index.ts';
import { SqlParams } from './sql.ts';
import type { ExpansionStep, ScopeIncident } from './types.ts';

/**
 * An incident's window ends at its last finding, but a detector judging an account against its
 * own history can stop firing while the account keeps misbehaving (a week of an insider's reading
 * becomes the account's "usual"). So scope follows each account the incident names past the end
 * of the window, day by day, while the account keeps touching more people a day than it ever did
 * before the incident; the first ordinary day ends the incident's window.
 */

/** Days of the account's own history before the incident that set its usual level. */
const HISTORY_DAYS = 28;
/** Fewer ordinary days than this and nothing is judged: a usual level needs some history. */
const MIN_HISTORY_DAYS = 5;

interface Day {
  actor: string;
  d: string;
  n: number;
  last: string;
}

export async function continuedWindow(
  engine: Engine,
  incident: ScopeIncident,
  window: { start: string; end: string },
  timezone: string,
): Promise<{ window: { start: string; end: string }; steps: ExpansionStep[] }> {
  const actors = [
    ...new Set(incident.entities.filter((e) => e.type === 'actor' || e.type === 'service').map((e) => e.id)),
  ];
  if (actors.length === 0) return { window, steps: [] };
  const p = new SqlParams();
  const tz = p.bind(timezone, 'String');
  const rows = await engine.query<Day>(
    `SELECT actor_uid AS actor, toString(toDate(time, ${tz})) AS d, uniqExactArray(subject_ids) AS n,
       toString(max(time)) AS last
     FROM events
     PREWHERE ${p.inList('actor_uid', actors)}
       AND time >= parseDateTime64BestEffort(${p.bind(window.start, 'String')}, 3, 'UTC') - toIntervalDay(${HISTORY_DAYS})
     WHERE class_uid = 6003
     GROUP BY actor, d ORDER BY actor, d`,
    p.values,
  );
  const [days] = await engine.query<{ start: string; end: string }>(
    `SELECT toString(toDate(parseDateTime64BestEffort({start:String}, 3, 'UTC'), {tz:String})) AS start,
       toString(toDate(parseDateTime64BestEffort({end:String}, 3, 'UTC'), {tz:String})) AS end`,
    { start: window.start, end: window.end, tz: timezone },
  );
  const startDay = days!.start;
  const endDay = days!.end;
  let end = Date.parse(window.end);
  const steps: ExpansionStep[] = [];
  for (const actor of actors) {
    const days = rows.filter((r) => r.actor === actor);
    const before = days.filter((r) => r.d < startDay).map((r) => Number(r.n));
    if (before.length < MIN_HISTORY_DAYS) continue;
    const sorted = [...before].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    // Above anything the account did before, with room for an ordinary busy day.
    const bar = Math.max(1.5 * sorted[sorted.length - 1], 2 * median);
    const kept: Day[] = [];
    for (const r of days.filter((x) => x.d >= endDay)) {
      if (Number(r.n) <= bar) break;
      kept.push(r);
    }
    const last = kept.length > 0 ? Date.parse(`${kept[kept.length - 1].last.replace(' ', 'T')}Z`) : end;
    if (last <= end) continue;
    end = last;
    steps.push({
      round: 0,
      entity: { type: 'actor', id: actor },
      origin: 'seed',
      verdict: 'shared',
      reason: `kept touching more people a day than before the incident after its last finding (${kept
        .map((k) => `${k.d}: ${k.n}`)
        .join(
          ', ',
        )}; before: median ${median}, most ${sorted[sorted.length - 1]} a day): the window runs to ${new Date(last).toISOString()}`,
      events: 0,
    });
  }
  return { window: { start: window.start, end: new Date(end).toISOString() }, steps };
}
