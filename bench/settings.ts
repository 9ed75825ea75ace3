/** Shared load settings: every measurement runs at the same concurrency and for the same time. */
export const CONNECTIONS = 50;
/** Seconds each measurement runs (BENCH_SECONDS, default 5). */
export const DURATION_S = Number(process.env.BENCH_SECONDS ?? 5);
/** Seconds of unmeasured load before each Slack measurement (JIT, pools and caches warm). */
export const WARMUP_S = 1;
