import { describe, expect, it } from "vitest";
import { checkLimits } from "../src/start/limits";
import type { TaskEntry } from "../src/tasks/store";

// The pure check behind the limits: whether a request may start now, from the task index alone.
const HOUR = 3600_000;
const config = { maxRunning: 2, maxStartsPerThreadPerHour: 2, maxStartsPerInstallationPerHour: 3 };
const NOW = Date.parse("2026-11-26T12:00:00Z");

function entry(id: string, fields: Partial<TaskEntry> = {}): TaskEntry {
  return { id, status: "succeeded", createdMs: NOW - 10 * 60_000, thread: "o/r#1", installationId: 1, ...fields };
}
const self = { id: "self", thread: "o/r#1", installationId: 1, createdMs: NOW };

describe("checkLimits", () => {
  it("counts conversations started in the last hour, not requests made", () => {
    const waited = [
      entry("a", { status: "queued" }),
      entry("b", { status: "queued" }),
      entry("c", { status: "queued" }),
    ];
    expect(checkLimits(waited, self, NOW, config)).toEqual({ kind: "go" });
  });

  it("over the thread limit: wait until the oldest counted start leaves the hour", () => {
    const started = [entry("a", { startedMs: NOW - 50 * 60_000 }), entry("b", { startedMs: NOW - 20 * 60_000 })];
    expect(checkLimits(started, self, NOW, config)).toEqual({
      kind: "over_limit",
      scope: "thread",
      limit: 2,
      retryAt: new Date(NOW - 50 * 60_000 + HOUR),
    });
    // an hour later, one of them no longer counts
    expect(checkLimits(started, self, NOW + 11 * 60_000, config)).toEqual({ kind: "go" });
  });

  it("over the installation limit, across threads", () => {
    const started = ["a", "b", "c", "d"].map((id, i) =>
      entry(id, { thread: `o/r#${10 + i}`, startedMs: NOW - (40 - i) * 60_000 }),
    );
    // the fourth-newest start must leave before one more fits under 3
    expect(checkLimits(started, self, NOW, config)).toMatchObject({
      kind: "over_limit",
      scope: "installation",
      retryAt: new Date(NOW - 39 * 60_000 + HOUR),
    });
  });

  it("fresh requests recorded just before this one take the free slots first", () => {
    const burst = [
      entry("a", { status: "queued", createdMs: NOW - 1000, thread: "o/r#5" }),
      entry("b", { status: "queued", createdMs: NOW - 500, thread: "o/r#6" }),
    ];
    expect(checkLimits(burst, self, NOW, config)).toEqual({ kind: "wait_for_slot", running: 0 });
    // newer ones, or ones long queued (backing off, waiting on a thread), do not
    const others = [
      entry("c", { status: "queued", createdMs: NOW + 10, thread: "o/r#5" }),
      entry("d", { status: "queued", createdMs: NOW - 30 * 60_000, thread: "o/r#6" }),
    ];
    expect(checkLimits(others, self, NOW, config)).toEqual({ kind: "go" });
  });

  it("a free slot is needed once the limits allow", () => {
    const running = [
      entry("a", { status: "running", thread: "o/r#2", installationId: 2 }),
      entry("b", { status: "starting", thread: "o/r#3", installationId: 2 }),
    ];
    expect(checkLimits(running, self, NOW, config)).toEqual({ kind: "wait_for_slot", running: 2 });
  });
});
