/**
 * The server's door: `startServer` and the access-token store for the CLI, and the API's data types
 * for the console.
 */
export { isRole, ROLES, type Role, type TokenInfo, TokenStore } from './auth.ts';
export type { AuditRecord, Exposure, Incident, IncidentFinding, ScopeSummary } from './domain.ts';
export { DEFAULT_LIMITS, type RunningServer, type ServeOptions, startServer } from './server.ts';
export { precomputeViews } from './views.ts';
