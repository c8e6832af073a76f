export { Dialect, ModernDialect } from './dialect.ts';
