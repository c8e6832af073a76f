/**
 * Many findings are "these events, grouped per window and per entity, described by their distinct
 * addresses, agents, subjects…". This builds that in one engine pass: each flagged event carries a
 * list of (dimension, value) pairs; the engine counts events per value, then folds them per
 * (window, group) into distinct counts and top lists. Orders are total (count, then value) so the
 * same events always give the same finding, whether judged in a replay or live.
 */

export interface RollupDimension {
  name: string;
  /** Keep the top values (by events) for evidence; 0 keeps only the distinct count. */
  top: number;
}

export interface RollupRow {
  ws: string;
  grp: string;
  events: number;
  first_seen: string;
  last_seen: string;
  example_event_ids: string[];
  /** Distinct values per dimension, in the order of the dimensions given. */
  distinct: number[];
  /** Top (value, events) pairs per dimension, in the same order. */
  tops: [string, number][][];
}

/**
 * `inner` must yield `ws` (window start), `grp` (String), `time`, `event_id` and `dims`
 * (Array(Tuple(String, String)) of the event's dimension values; empty values are skipped).
 */
export function rollupSql(inner: string, dims: readonly RollupDimension[]): string {
  const distinct = dims.map((d) => `countIf(dim = '${d.name}')`).join(', ');
  const tops = dims
    .map((d) =>
      d.top > 0
        ? `arraySlice(arraySort(x -> (-x.2, x.1), groupArrayIf((value, n), dim = '${d.name}')), 1, ${d.top})`
        : '[]::Array(Tuple(String, UInt64))',
    )
    .join(', ');
  return `
    SELECT ws, grp,
      sumIf(n, dim = '') AS events,
      min(first) AS first_seen, max(last) AS last_seen,
      arrayMap(x -> x.2, arraySlice(arraySort(groupArrayArray(ex)), 1, 5)) AS example_event_ids,
      [${distinct}] AS distinct,
      [${tops}] AS tops
    FROM (
      SELECT ws, grp, d.1 AS dim, d.2 AS value, count() AS n, min(time) AS first, max(time) AS last,
        groupArraySortedIf(5)((time, event_id), dim = '') AS ex
      FROM (
        SELECT ws, grp, time, event_id, arrayConcat([('', '')], dims) AS dims FROM (${inner})
      )
      ARRAY JOIN dims AS d
      WHERE d.1 = '' OR d.2 != ''
      GROUP BY ws, grp, dim, value
    )
    GROUP BY ws, grp
    ORDER BY ws, grp`;
}

/** Top (value, events) pairs as readable evidence. */
export function topEvidence(pairs: [string, number][]): { value: string; events: number }[] {
  return pairs.map(([value, events]) => ({ value, events: Number(events) }));
}
