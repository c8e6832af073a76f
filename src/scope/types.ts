/** The shapes scoping speaks: what it reads of an incident, and what it answers. */

/** An entity as incidents name it (`type` one of actor, person, ip, subnet, asn, key, token, user_agent, service). */
export interface ScopeEntity {
  type: string;
  id: string;
}

/** What scoping needs of an incident; any `Incident` from `detect/` fits. */
export interface ScopeIncident {
  id: string;
  first_seen: string;
  last_seen: string;
  entities: readonly ScopeEntity[];
}

export type Confidence = 'confirmed' | 'probable';

/** One subject's exposure in one computation: one row of `vigil scope --out`. */
export interface Exposure {
  subject_id: string;
  subject_type: string;
  categories: string[];
  first_exposed: string;
  last_exposed: string;
  events: number;
  confidence: Confidence;
  /** What tied the subject's strongest event to the attacker. */
  indicator: string;
}

/** The columns of an exposure export, in order (every format). */
export const EXPOSURE_COLUMNS = [
  'subject_id',
  'subject_type',
  'categories',
  'first_exposed',
  'last_exposed',
  'events',
  'confidence',
  'indicator',
] as const satisfies readonly (keyof Exposure)[];

/**
 * One step of following the attacker from the incident's entities: which entity, how it was
 * judged (attacker-only, or shared with legitimate traffic), and what it added. Steps that stop
 * (a shared address not followed) are listed too, so the edge of the evidence is visible.
 */
export interface ExpansionStep {
  round: number;
  entity: ScopeEntity;
  /** seed = named by the incident; found = reached from events already attributed. */
  origin: 'seed' | 'found';
  verdict: 'attacker-only' | 'shared' | 'forged-tokens' | 'departed-account' | 'not-followed';
  /** Why it was judged so, in a sentence with the numbers. */
  reason: string;
  /** Events this entity added to the confirmed set (0 for shared or not-followed entities). */
  events: number;
}

export interface OperationExposure {
  operation: string;
  categories: string[];
  /** Successful calls that returned subjects (views). */
  views: number;
  people: number;
  /** e.g. "GetShippingAddresses: 148 views, 92 people — name, phone, address". */
  text: string;
}

export interface OriginExposure {
  country: string;
  asn: number;
  as_org: string;
  events: number;
  addresses: number;
  people: number;
}

export interface DayExposure {
  day: string;
  events: number;
  people: number;
}

/**
 * Why a category was not exposed: every operation the catalog says returns it, and how often
 * the attacker's events called each (0 for all, or only failed calls). `provable` is false when
 * the attacker also called operations the catalog does not know: those could return anything.
 */
export interface NotExposedEvidence {
  category: string;
  label: string;
  operations: { operation: string; attacker_calls: number; successful_calls: number }[];
  provable: boolean;
  statement: string;
}

/** `vigil scope --json`: the public shape (interface.md) plus the breakdowns behind it. */
export interface ScopeSummary {
  incident: string;
  computation_id: string;
  computed_at: string;
  subjects: number;
  by_category: Record<string, number>;
  not_exposed: string[];
  first_exposed: string | null;
  last_exposed: string | null;
  by_confidence: { confirmed: number; probable: number };
  by_subject_type: Record<string, number>;
  by_operation: OperationExposure[];
  by_origin: OriginExposure[];
  by_day: DayExposure[];
  not_exposed_evidence: NotExposedEvidence[];
  /** Operations the attacker called that the catalog does not know (a gap: never treated as harmless). */
  catalog_gaps: { operation: string; events: number }[];
  events: { attributed: number; confirmed: number; probable: number; exposing: number };
  by_indicator: Record<string, number>;
  expansion: ExpansionStep[];
  /** Time range in which shared entities count (the incident's first_seen..last_seen). */
  window: { start: string; end: string };
  seconds: number;
  /** True when this summary is a stored computation reused without recomputing. */
  reused: boolean;
}

export interface ScopeOptions {
  /** Who asked (OS user, or the server token's name), for the audit log. */
  who?: string;
  role?: string;
  /** Recompute even when a stored computation for the same inputs exists. */
  recompute?: boolean;
  /**
   * An address or user agent counts as shared with legitimate traffic when at least this many
   * distinct actors used it successfully in the history before the incident (default 1).
   */
  sharedMinActors?: number;
  /** Most expansion rounds (default 8). */
  maxRounds?: number;
}

export type ExportFormat = 'jsonl' | 'csv' | 'parquet';
