import type { Migration } from './types.ts';

/**
 * Event times stored as deltas. The sort order puts an hour's rows by class and actor, so
 * neighbouring times are a random draw from that hour: plain LZ4 kept them at ~4.3 bytes an event
 * and reading them was the dearest column of a scan (0.8 CPU s per 100 M events, as much as the
 * event ids). Deltas within the hour compress to ~1.6 bytes and read in 0.33 CPU s (measured on
 * the 100 M-event scope bench store; Delta+ZSTD was smaller but slower to read, T64 and
 * DoubleDelta slower). Parts written before this keep their codec until merged.
 */
export const timeCodec: Migration = {
  version: 12,
  name: 'delta codec for event times',
  statements: (d) =>
    d.supportsCodecs
      ? [`ALTER TABLE events MODIFY COLUMN time ${d.withCodec(d.timeType(), 'Delta(8), LZ4')}`]
      : [],
};
