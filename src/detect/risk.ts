import type { Severity } from './detector.ts';

/**
 * Risk per entity: every finding about an entity adds its score, and what it added halves every
 * half-life, so signals from several detectors close together add up while an old weak signal
 * fades instead of combining with an unrelated one months later.
 */

export interface Contribution {
  score: number;
  /** Event time the finding's window ended, epoch ms. */
  at: number;
}

/** Risk at `t` from the contributions up to `t` (later ones do not count yet). */
export function riskAt(contributions: readonly Contribution[], t: number, halfLifeMs: number): number {
  let risk = 0;
  for (const c of contributions) {
    if (c.at > t) continue;
    risk += c.score * 0.5 ** ((t - c.at) / halfLifeMs);
  }
  return Math.round(risk * 100) / 100;
}

/** How far back contributions can still matter (below 1 % of their score). */
export function horizonMs(halfLifeMs: number): number {
  return Math.ceil(halfLifeMs * Math.log2(100));
}

export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

export interface SeverityInput {
  /** The severities of the detectors whose findings the incident holds. */
  detectorSeverities: readonly Severity[];
  /** Peak entity risk, and the threshold an incident is raised at. */
  risk: number;
  threshold: number;
  /** Data categories the incident's events exposed. */
  categories: readonly string[];
  /** Categories whose exposure makes any incident one level more severe (door codes, payment…). */
  sensitive: readonly string[];
}

/**
 * The most severe detector sets the floor; a risk well over the threshold (several detectors, or a
 * campaign that keeps going) makes it at least high; exposing a sensitive category adds a level.
 */
export function incidentSeverity(s: SeverityInput): Severity {
  let level = Math.max(0, ...s.detectorSeverities.map((x) => SEVERITIES.indexOf(x)));
  if (s.risk >= 2 * s.threshold) level = Math.max(level, SEVERITIES.indexOf('high'));
  if (s.categories.some((c) => s.sensitive.includes(c))) level += 1;
  return SEVERITIES[Math.min(level, SEVERITIES.length - 1)];
}
