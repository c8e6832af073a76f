import { catalogSql, currentCatalog, sqlNormalizedPath } from '../sources/reference/index.ts';
import type { Engine, Params } from '../store/index.ts';

/**
 * Standing risks, independent of any incident: the conditions the Coupang breach grew from. All of
 * it is judged "as of" the newest event (live, that is now; on a replayed workspace it is the end of
 * the data), so a simulated month reads the same as a live one.
 */
export interface Posture {
  as_of: string | null;
  /** Keys that may still sign although someone who held them has left. */
  keys_custodian_left: {
    key_id: string;
    purpose: string;
    created_on: string | null;
    custodians_left: { person_id: string; left_on: string }[];
    events_since_left: number;
  }[];
  /** Keys that may still sign and are older than the rotation age. */
  keys_past_rotation: { key_id: string; purpose: string; created_on: string; age_days: number }[];
  rotation_days: number;
  /** People who have left whose accounts were used on or after their last day. */
  departed_with_activity: {
    person_id: string;
    department: string;
    role: string;
    left_on: string;
    events: number;
    last_seen: string;
  }[];
  catalog_gaps: { operation: string; events: number; last_seen: string }[];
}

export async function posture(engine: Engine, opts: { rotationDays?: number } = {}): Promise<Posture> {
  const d = engine.dialect;
  const rotationDays = opts.rotationDays ?? 365;
  const [asOfRow] = await engine.query<{ n: number; as_of: string }>(
    'SELECT count() AS n, toString(max(time)) AS as_of FROM events',
  );
  const asOf = asOfRow && asOfRow.n > 0 ? asOfRow.as_of : null;
  // Without events, "now" is the wall clock.
  const today = asOf ? `toDate({asOf:DateTime64(3, 'UTC')})` : 'today()';
  const p: Params = asOf ? { asOf } : {};
  const catalog = await currentCatalog(engine);
  const c = catalogSql(catalog, d);

  const [custodianLeft, pastRotation, departed, gaps] = await Promise.all([
    keysCustodianLeft(engine, today, p),
    engine.query<{ key_id: string; purpose: string; created_text: string; age_days: number }>(
      `SELECT k.key_id AS key_id, k.purpose AS purpose, toString(k.created_on) AS created_text,
         dateDiff('day', k.created_on, ${today}) AS age_days
       FROM keys_current AS k
       WHERE k.created_on IS NOT NULL AND (k.retired_on IS NULL OR k.retired_on > ${today})
         AND dateDiff('day', k.created_on, ${today}) > {rotation:UInt32}
       ORDER BY age_days DESC, key_id`,
      { ...p, rotation: rotationDays },
    ),
    engine.query<Posture['departed_with_activity'][number]>(
      `SELECT p.person_id AS person_id, any(p.department) AS department, any(p.role) AS role,
         toString(any(p.left_on)) AS left_on, count() AS events, toString(max(e.time)) AS last_seen
       FROM events AS e
       INNER JOIN (SELECT principal_id, person_id, department, role, left_on FROM principals_current
                   WHERE left_on IS NOT NULL) AS p ON p.principal_id = e.actor_uid
       WHERE toDate(e.time) >= p.left_on
       GROUP BY p.person_id ORDER BY events DESC LIMIT 200`,
    ),
    engine.query<Posture['catalog_gaps'][number]>(
      `SELECT if(${c.operation} != '', ${c.operation}, ${sqlNormalizedPath('http_method', 'url_path')}) AS operation,
         count() AS events, toString(max(time)) AS last_seen
       FROM events WHERE class_uid = 6003 AND NOT ${c.known}
       GROUP BY operation ORDER BY events DESC LIMIT 100`,
    ),
  ]);
  return {
    as_of: asOf,
    keys_custodian_left: custodianLeft,
    keys_past_rotation: pastRotation.map(({ created_text, ...k }) => ({ ...k, created_on: created_text })),
    rotation_days: rotationDays,
    departed_with_activity: departed,
    catalog_gaps: gaps,
  };
}

/** Keys able to sign with a departed custodian, and how much they signed for since that person left. */
async function keysCustodianLeft(
  engine: Engine,
  today: string,
  p: Params,
): Promise<Posture['keys_custodian_left']> {
  const rows = await engine.query<{
    key_id: string;
    purpose: string;
    created_on: string | null;
    person_id: string;
    left_on: string;
  }>(
    `SELECT k.key_id AS key_id, k.purpose AS purpose, toString(k.created_on) AS created_on,
       p.person_id AS person_id, toString(p.left_on) AS left_on
     FROM keys_current AS k
     ARRAY JOIN k.custodians AS c
     INNER JOIN people_current AS p ON p.person_id = c
     WHERE p.left_on IS NOT NULL AND p.left_on <= ${today}
       AND (k.retired_on IS NULL OR k.retired_on > ${today})
     ORDER BY key_id, left_on`,
    p,
  );
  const byKey = new Map<string, Posture['keys_custodian_left'][number]>();
  for (const r of rows) {
    let k = byKey.get(r.key_id);
    if (!k) {
      k = {
        key_id: r.key_id,
        purpose: r.purpose,
        created_on: r.created_on,
        custodians_left: [],
        events_since_left: 0,
      };
      byKey.set(r.key_id, k);
    }
    k.custodians_left.push({ person_id: r.person_id, left_on: r.left_on });
  }
  const out = [...byKey.values()];
  for (const k of out) {
    const firstLeft = k.custodians_left.map((c) => c.left_on).sort()[0]!;
    const [n] = await engine.query<{ n: number }>(
      'SELECT count() AS n FROM events WHERE key_id = {key:String} AND toDate(time) >= toDate({left:String})',
      { key: k.key_id, left: firstLeft },
    );
    k.events_since_left = n?.n ?? 0;
  }
  return out;
}
