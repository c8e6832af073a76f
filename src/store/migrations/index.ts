import { events } from './0001_events.ts';
import { reference } from './0002_reference.ts';
import { enrichment } from './0003_enrichment.ts';
import { detection } from './0004_detection.ts';
import { baselines } from './0005_baselines.ts';
import { scopeAudit } from './0006_scope_audit.ts';
import { access } from './0007_access.ts';
import { incidentViews } from './0008_incident_views.ts';
import { dropTokenLedger } from './0011_drop_token_ledger.ts';
import { tokenLedger } from './0013_token_ledger.ts';
import { rawEvents } from './0014_raw_events.ts';
import { ingestPieces } from './0015_ingest_pieces.ts';
import type { Migration } from './types.ts';

export type { Migration } from './types.ts';

/**
 * In version order. Add a file per change; never edit a released migration (9, 10 and 12 were
 * withdrawn before release).
 */
export const migrations: Migration[] = [
  events,
  reference,
  enrichment,
  detection,
  baselines,
  scopeAudit,
  access,
  incidentViews,
  dropTokenLedger,
  tokenLedger,
  rawEvents,
  ingestPieces,
];
