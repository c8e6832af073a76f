/**
 * Adapters: event sources for formats other than OCSF. Each maps its format into the same stage
 * columns as the OCSF source (see `stage.ts`) and is registered in `sources/index.ts`.
 */
import { UserError } from '../../cli/errors.ts';
import type { EventSource } from '../source.ts';
import { isMappedSource } from './accesslog.ts';
import { loadFieldMap } from './fieldmap.ts';

export type { MappedSource } from './accesslog.ts';
export { cloudtrail } from './cloudtrail.ts';
export { ENVOY_FIELDS, envoy } from './envoy.ts';
export type { FieldKey, FieldMap } from './fieldmap.ts';
export { FIELD_KEYS, loadFieldMap } from './fieldmap.ts';
export { NGINX_FIELDS, nginx } from './nginx.ts';
export { pgaudit } from './pgaudit.ts';

/** `source` reconfigured by a field-map file (`--field-map`), over the source's own defaults. */
export function withFieldMap(source: EventSource, file: string): EventSource {
  if (!isMappedSource(source)) {
    throw new UserError(
      `--field-map does not apply to --format ${source.name}`,
      'Field maps configure JSON access logs: --format nginx or --format envoy.',
    );
  }
  return source.withFieldMap(loadFieldMap(file, source.fieldMap));
}
