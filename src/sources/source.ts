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
   * Cheaper parses for inputs whose first lines call for them, when `parseSelect` computes
   * something dear for some lines only (OCSF: the remainder of unknown keys): without it when none
   * of them needs it, or for every line, untested, when nearly all do; see `ocsf/parse.ts`.
   */
  readonly byProbe?: {
    /** One row: `probed`, how many of the first lines of `input` were looked at; `n`, how many need it. */
    probeSelect(input: string): string;
    /** Like `parseSelect`, with `unmapped_pairs` = `UNMAPPED_LATER` on the lines that need it. */
    parseDeferred(d: Dialect, input: string): string;
    /** Like `parseSelect`, computing it for every line without testing which need it. */
    parseEvery(d: Dialect, input: string): string;
    /** Share of probed lines needing it from which `parseEvery` is the cheaper parse. */
    everyLineShare: number;
  };
}
