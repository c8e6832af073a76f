import type { Migration } from './types.ts';

/**
 * The console's views of an incident (its timeline, its entities), kept as computed so that a
 * restarted server shows an incident page at once: each row is one computation, tagged with the
 * fingerprint of the data it was computed from; the newest row of a view is served, and
 * recomputed in the background when the fingerprint no longer matches. Append-only.
 */
export const incidentViews: Migration = {
  version: 8,
  name: 'incident views',
  statements: (d) => [
    `CREATE TABLE IF NOT EXISTS incident_views (
      incident String,
      view ${d.lowCardinality('String')},
      fingerprint String,
      computed_at ${d.timeType()},
      body String
    ) ${d.sqlMergeTree({ orderBy: '(incident, view, computed_at)' })}`,
  ],
};
