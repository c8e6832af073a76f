import type { Dialect } from '../store/index.ts';

/**
 * An event source: a format the engine can read line by line into the one event model. Each
 * source (OCSF, nginx JSON, CloudTrail…) is a `parseSelect` that turns its input into the stage
 * columns (every `events` column plus reason/detail/raw/line_hash); ingest, quarantine, dedup and
 * reconciliation are shared.
 *
 * The input is a FROM item of the lines of one or more files: `line`, `_row_number` (its 0-based
 * position in its file; ingest binds `{firstLine}`, the number of a file's first line) and
 * `input_label` (what events record as their `source_file`).
 */
export interface EventSource {
  readonly name: string;
  readonly description: string;
  /**
   * Whether each line is parsed on its own, so that several files can be read as one input
   * (ingest then pays a parse's fixed cost once for many small files). A format whose records
   * span lines reads one file at a time.
   */
  readonly linewise: boolean;
  /**
   * Of a format whose records span lines: a line that starts a record. A large input is cut into
   * pieces (see `PIECE_BYTES` in ocsf/ingest.ts) only before such a line, so no record is split.
   */
  readonly recordStart?: RegExp;
  parseSelect(d: Dialect, input: string): string;
  /**
   * Of a format whose events are one line each: ingest keeps each stored event's line verbatim in
   * `raw_events` (its raw form), and this SELECT over kept lines (a relation of `event_id` and
   * `line`) yields `event_id` and `unmapped`, the part of each Vigil does not map, when it is read
   * (`eventRecords`). A format without it keeps that part in `events.unmapped` at ingest (its
   * events are part of a line, like CloudTrail's `Records`, or span lines).
   */
  readonly remainderSelect?: (input: string) => string;
}
