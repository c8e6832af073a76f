import type { Catalog, CatalogSql, SiteSettings } from '../sources/reference/index.ts';
import type { Dialect, Engine } from '../store/index.ts';

/** What findings and incidents are about. Accounts are only one kind: attacks show per key and per address. */
export type EntityType =
  | 'actor'
  | 'person'
  | 'ip'
  | 'subnet'
  | 'asn'
  | 'key'
  | 'token'
  | 'user_agent'
  | 'service';

export interface EntityRef {
  type: EntityType;
  id: string;
}

export type Severity = 'low' | 'medium' | 'high' | 'critical';

/**
 * One detector's verdict on one entity in one window, with everything a person needs to judge it
 * without writing a query: the counts, what they were compared with, and example events.
 */
export interface Finding {
  detector: string;
  entity: EntityRef;
  /** Event-time window, ISO 8601 UTC: [window_start, window_end). */
  window_start: string;
  window_end: string;
  /** 0–100: how strongly this finding indicates an attack; feeds the entity's risk. */
  score: number;
  /** One sentence, e.g. "412 API calls with 37 tokens signed by k-2024-03 that were never issued". */
  summary: string;
  /**
   * Readable facts: counts, the baseline or peer figures compared with (and which baseline),
   * `example_event_ids` (a few), first/last event time in the window. Incidents read two optional
   * keys: `first_seen` / `last_seen` (ISO times of the first and last event, for the incident's
   * span) and `categories` (data categories the events exposed, for its severity).
   */
  evidence: Record<string, unknown>;
  /**
   * Other entities the same events tie to this one (the key of a forged token, the addresses it was
   * used from, the user agent…). Incidents group findings through these links.
   */
  related: EntityRef[];
}

/** Reviewable metadata, one bar for all detectors (checked by the sweep test). */
export interface DetectorMeta {
  /** kebab-case id, e.g. `unissued-token`. */
  id: string;
  title: string;
  /** What it catches and why that matters, in a paragraph. */
  description: string;
  /** Benign situations that could trigger it, and how the detector avoids or tolerates them. */
  false_positives: string[];
  /** Severity when it fires on its own. */
  severity: Severity;
  /** Parameters with defaults; site settings `detection.<id>.<name>` override them. */
  defaults: Record<string, number | string | boolean>;
  /** How much history before a window the detector reads (baselines), in seconds. */
  lookback_seconds: number;
  /**
   * Bump when the logic changes in a way that changes findings: the runner then replays the
   * detector from the start of the data (a retro-hunt), as it does for a new detector or new
   * parameters. Absent = 1.
   */
  revision?: number;
}

/** A run of consecutive event-time windows: [start, end), each `windowSeconds` long, aligned. */
export interface WindowRange {
  start: Date;
  end: Date;
  windowSeconds: number;
}

export interface DetectContext {
  engine: Engine;
  dialect: Dialect;
  settings: SiteSettings;
  catalog: Catalog;
  /** The catalog as SQL over `events` columns (operation, categories). */
  catalogSql: CatalogSql;
  /** This detector's parameters: its defaults overlaid with site settings. */
  params: Record<string, number | string | boolean>;
}

/**
 * A detector is a pure function of (events in the windows, reference data, history before them)
 * → findings. `evaluate` is given a whole range of windows so a replay answers many windows per
 * query (grouped by window); live operation passes a range of one window. Both must yield the
 * same findings for the same window: baselines may only read data before the window they judge.
 */
export interface Detector {
  readonly meta: DetectorMeta;
  evaluate(ctx: DetectContext, range: WindowRange): Promise<Finding[]>;
  /**
   * How far past a window's end, in event time, this detector reads before it can judge the
   * window (e.g. issuance logs written after the token's use). The runner waits that much longer
   * before judging a window. Absent = 0.
   */
  lookaheadSeconds?(params: DetectContext['params']): number;
}
