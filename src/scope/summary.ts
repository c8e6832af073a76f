import type { Catalog } from '../sources/reference/index.ts';
import type { Engine } from '../store/index.ts';
import { sqlIso } from './sql.ts';
import type {
  DayExposure,
  NotExposedEvidence,
  OperationExposure,
  OriginExposure,
  ScopeSummary,
} from './types.ts';

type Computed = Omit<
  ScopeSummary,
  'incident' | 'computation_id' | 'computed_at' | 'expansion' | 'window' | 'seconds' | 'reused'
>;

const fmt = (n: number) => n.toLocaleString('en');

/** The breakdowns of one computation, all from `exposures` and `scope_events` (nothing rescans `events`). */
export async function summarise(
  engine: Engine,
  cid: string,
  catalog: Catalog,
  timezone: string,
): Promise<Computed> {
  const q = <T>(sql: string) => engine.query<T>(sql, { cid, tz: timezone });
  const WHERE = 'WHERE computation_id = {cid:String}';
  const [totals] = await q<{
    subjects: number;
    confirmed: number;
    probable: number;
    first: string | null;
    last: string | null;
  }>(
    `SELECT count() AS subjects, countIf(confidence = 'confirmed') AS confirmed, countIf(confidence = 'probable') AS probable,
       if(subjects = 0, NULL, ${sqlIso('min(first_exposed)')}) AS first, if(subjects = 0, NULL, ${sqlIso('max(last_exposed)')}) AS last
     FROM exposures ${WHERE}`,
  );
  const byType = await q<{ k: string; n: number }>(
    `SELECT subject_type AS k, count() AS n FROM exposures ${WHERE} GROUP BY k ORDER BY n DESC`,
  );
  const byCategory = await q<{ k: string; n: number }>(
    `SELECT category AS k, count() AS n FROM exposures ARRAY JOIN categories AS category ${WHERE} GROUP BY k ORDER BY n DESC, k`,
  );
  const [events] = await q<{ attributed: number; confirmed: number; probable: number; exposing: number }>(
    `SELECT count() AS attributed, countIf(confidence = 'confirmed') AS confirmed,
       countIf(confidence = 'probable') AS probable, countIf(exposing) AS exposing
     FROM scope_events ${WHERE}`,
  );
  const byIndicator = await q<{ k: string; n: number }>(
    `SELECT indicator AS k, count() AS n FROM scope_events ${WHERE} GROUP BY k ORDER BY n DESC LIMIT 100`,
  );
  const calls = await q<{
    operation: string;
    known: number;
    categories: string[];
    calls: number;
    views: number;
    people: number;
  }>(
    `SELECT operation, max(known) AS known, any(categories) AS categories, count() AS calls,
       countIf(exposing) AS views, uniqExactArrayIf(subject_ids, exposing) AS people
     FROM scope_events ${WHERE} AND class_uid = 6003 GROUP BY operation ORDER BY views DESC, operation`,
  );
  const byOrigin = await q<OriginExposure>(
    `SELECT country, asn, as_org, count() AS events, uniqExact(src_ip) AS addresses,
       uniqExactArrayIf(subject_ids, exposing) AS people
     FROM scope_events ${WHERE} GROUP BY country, asn, as_org ORDER BY events DESC LIMIT 200`,
  );
  const byDay = await q<DayExposure>(
    `SELECT toString(toDate(time, {tz:String})) AS day, count() AS events, uniqExactArrayIf(subject_ids, exposing) AS people
     FROM scope_events ${WHERE} GROUP BY day ORDER BY day`,
  );

  const label = (c: string) => catalog.categories.get(c) ?? c;
  const byOperation: OperationExposure[] = calls
    .filter((c) => c.views > 0)
    .map((c) => ({
      operation: c.operation || '(unknown)',
      categories: c.categories,
      views: c.views,
      people: c.people,
      text: `${c.operation || '(unknown operation)'}: ${fmt(c.views)} views, ${fmt(c.people)} people — ${
        c.known ? c.categories.map(label).join(', ') || 'no personal data' : 'not in the catalog'
      }`,
    }));
  const gaps = calls
    .filter((c) => !c.known)
    .map((c) => ({ operation: c.operation || '(unknown)', events: c.calls }));
  const exposed = new Set(byCategory.map((r) => r.k));
  const callsByOp = new Map(calls.map((c) => [c.operation, c]));
  const returning = new Map<string, string[]>();
  for (const [op, cats] of catalog.operations)
    for (const c of cats) returning.set(c, [...(returning.get(c) ?? []), op]);
  for (const path of catalog.paths)
    for (const c of path.categories) returning.set(c, [...(returning.get(c) ?? []), path.name]);
  const successfulGaps = gaps.filter(
    (g) => (callsByOp.get(g.operation === '(unknown)' ? '' : g.operation)?.views ?? 0) > 0,
  );
  const notExposed: NotExposedEvidence[] = [...catalog.categories.keys()]
    .filter((c) => !exposed.has(c))
    .map((category) => {
      const operations = (returning.get(category) ?? []).map((op) => ({
        operation: op,
        attacker_calls: callsByOp.get(op)?.calls ?? 0,
        successful_calls: callsByOp.get(op)?.views ?? 0,
      }));
      const tried = operations.filter((o) => o.attacker_calls > 0);
      const provable = successfulGaps.length === 0;
      const ops = operations.map((o) => o.operation).join(', ') || 'no operation in the catalog';
      const statement = `${label(category)} (${category}) ${provable ? 'was not affected' : 'cannot be shown unaffected'}: ${
        tried.length === 0
          ? `no attacker event called an operation that returns it (${ops})`
          : `the attacker's calls to ${tried.map((o) => `${o.operation} (${o.attacker_calls})`).join(', ')} all failed; ${ops} return it`
      }${provable ? '' : `, but the attacker successfully called ${successfulGaps.length} operation(s) the catalog does not know`}.`;
      return { category, label: label(category), operations, provable, statement };
    });

  return {
    subjects: totals?.subjects ?? 0,
    by_category: Object.fromEntries(byCategory.map((r) => [r.k, r.n])),
    not_exposed: notExposed.filter((n) => n.provable).map((n) => n.category),
    first_exposed: totals?.first ?? null,
    last_exposed: totals?.last ?? null,
    by_confidence: { confirmed: totals?.confirmed ?? 0, probable: totals?.probable ?? 0 },
    by_subject_type: Object.fromEntries(byType.map((r) => [r.k, r.n])),
    by_operation: byOperation,
    by_origin: byOrigin,
    by_day: byDay,
    not_exposed_evidence: notExposed,
    catalog_gaps: gaps,
    events: events ?? { attributed: 0, confirmed: 0, probable: 0, exposing: 0 },
    by_indicator: Object.fromEntries(byIndicator.map((r) => [r.k, r.n])),
  };
}
