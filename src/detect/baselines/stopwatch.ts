/** Stage timings on stderr when VIGIL_DEBUG is set (tuning replays); a no-op otherwise. */
export function stopwatch(label: string): (stage: string) => void {
  if (!process.env.VIGIL_DEBUG) return () => {};
  let t = performance.now();
  return (stage) => {
    const now = performance.now();
    process.stderr.write(`${label} ${stage} ${(now - t).toFixed(0)}ms\n`);
    t = now;
  };
}
