import { UserError } from '../cli/errors.ts';
import {
  type Catalog,
  catalogSql,
  currentCatalog,
  currentSettings,
  type SiteSettings,
} from '../sources/reference/index.ts';
import type { Engine } from '../store/index.ts';
import type { DetectContext, Detector } from './detector.ts';

type Params = DetectContext['params'];

/** Reference data every detector reads, loaded once per run. */
export interface Reference {
  settings: SiteSettings;
  catalog: Catalog;
}

export async function loadReference(engine: Engine): Promise<Reference> {
  return { settings: await currentSettings(engine), catalog: await currentCatalog(engine) };
}

/** A detector's parameters: its defaults, overlaid with `settings.detection[id]` (known keys only). */
export function detectorParams(detector: Detector, settings: SiteSettings): Params {
  const overrides = settings.detection?.[detector.meta.id] ?? {};
  const params: Params = { ...detector.meta.defaults };
  for (const [k, v] of Object.entries(overrides)) {
    const where = `site settings detection.${detector.meta.id}.${k}`;
    if (!(k in params))
      throw new UserError(`${where}: no such parameter`, `Known: ${Object.keys(params).join(', ')}.`);
    if (typeof v !== typeof params[k])
      throw new UserError(
        `${where}: must be a ${typeof params[k]}`,
        'Fix the settings file and load it again.',
      );
    params[k] = v as string | number | boolean;
  }
  return params;
}

export function detectContext(engine: Engine, detector: Detector, ref: Reference): DetectContext {
  return {
    engine,
    dialect: engine.dialect,
    settings: ref.settings,
    catalog: ref.catalog,
    catalogSql: catalogSql(ref.catalog, engine.dialect),
    params: detectorParams(detector, ref.settings),
  };
}
