/**
 * Every test of attribute.test.ts again, with scope forced onto the candidate table (one wide pass, then
 * small reads) that stores above a few million events use: the fixtures are far below that size.
 */
process.env.VIGIL_SCOPE_DIRECT_MAX = '0';
await import('./attribute.test.ts');
