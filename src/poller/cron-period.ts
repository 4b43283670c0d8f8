/**
 * The cron's period, as `crons` in wrangler.toml sets it (test/architecture/cron-period.test.ts holds
 * the two together). The clock-only decisions (activity looks, token refreshes, the hourly sweep) act
 * on the tick that falls in a window's first period; a faster cron only acts a few times per window.
 * A module of its own, importing nothing, so that the Node test can read it.
 */
export const CRON_PERIOD_MS = 3 * 60_000;
