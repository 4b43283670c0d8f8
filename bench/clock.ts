/**
 * A simulated clock for the Worker under benchmark: while `at(ms)` is set, the
 * global `Date` (which the bundled Worker, the counting KV's expirations and the
 * fakes all read) tells that time, so a day of cron ticks takes seconds and a
 * KV expiration an hour out really passes.
 */
const RealDate = Date;
let simulatedNow: number | undefined;

class SimulatedDate extends RealDate {
  constructor(...args: unknown[]) {
    if (args.length === 0 && simulatedNow !== undefined) super(simulatedNow);
    else super(...(args as [string]));
  }
  static override now(): number {
    return simulatedNow ?? RealDate.now();
  }
}

/** Runs `work` on the simulated clock; `at(ms)` moves it. The real clock is back afterwards. */
export async function onSimulatedClock<T>(start: number, work: (at: (ms: number) => void) => Promise<T>): Promise<T> {
  const saved = globalThis.Date;
  simulatedNow = start;
  globalThis.Date = SimulatedDate as DateConstructor;
  try {
    return await work((ms) => {
      simulatedNow = ms;
    });
  } finally {
    globalThis.Date = saved;
    simulatedNow = undefined;
  }
}

/** Real time, whatever the clock says. */
export function realNow(): number {
  return RealDate.now();
}
