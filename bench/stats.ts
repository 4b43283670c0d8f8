/** Median and p99 of timed runs, in microseconds. */
export interface Timing {
  runs: number;
  median: number;
  p99: number;
}

function summarise(samplesUs: number[]): Timing {
  const sorted = [...samplesUs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return { runs: sorted.length, median: at(0.5), p99: at(0.99) };
}

/** Calls `step(i)` `warmup` times untimed, then `runs` times; `step` returns the µs it wants counted. */
export async function measure(runs: number, warmup: number, step: (i: number) => Promise<number>): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await step(-1 - i);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(await step(i));
  return summarise(samples);
}

/** Times one async call in µs. */
export async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return (performance.now() - start) * 1000;
}

export function fmt(us: number): string {
  return us >= 100 ? us.toFixed(0) : us.toFixed(1);
}

/** A Markdown table, padded so it also reads well on a terminal. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, c) => cell.padEnd(widths[c]!)).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}
