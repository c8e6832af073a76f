/**
 * Every test of scope.test.ts again on the candidate table, with the never-issued tokens found by
 * grouping every event (a store the token ledger does not cover) instead of read from the ledger,
 * which then also says nothing of where the forged calls came from.
 */
process.env.VIGIL_SCOPE_DIRECT_MAX = '0';
process.env.VIGIL_SCOPE_LEDGER = '0';
await import('./scope.test.ts');
