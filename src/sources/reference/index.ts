/** Reference data: the roster, signing keys, services, the data catalog and site settings. */

export type { CatalogSql } from './catalog.sql.ts';
export { catalogSql, sqlNormalizedPath } from './catalog.sql.ts';
export type { Catalog, CatalogPath } from './catalog.ts';
export { currentCatalog, loadCatalog, parseCatalog, templateToPattern } from './catalog.ts';
export { ReferenceFileError } from './errors.ts';
export type { ReferenceKind, ReferenceLoad } from './load.ts';
export { loadKeys, loadPeople, loadServices } from './load.ts';
export type { SiteSettings } from './settings.ts';
export { currentSettings, DEFAULT_SETTINGS, loadSettings, parseSettings } from './settings.ts';
