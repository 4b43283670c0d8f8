import { describe, expect, it } from "vitest";
import {
  ACTIVE_STATUSES,
  FINAL_STATUSES,
  InvalidTransition,
  isFinal,
  isPending,
  newTask,
  PENDING_STATUSES,
  type Task,
  type TaskStatus,
  transition,
} from "../src/tasks/task";
import { sampleRequest } from "./support/fixtures";

// The state machine in src/tasks/task.ts, which every move in src/lifecycle/ goes through.
const T0 = new Date("2026-11-26T12:00:00Z");
const request = sampleRequest;

const ALL: TaskStatus[] = [...PENDING_STATUSES, ...FINAL_STATUSES];
const at = (status: TaskStatus): Task => ({ ...newTask("b".repeat(32), request, T0, T0), status });

/** The table, written out as the diagram in task.ts draws it. */
const EXPECTED: Record<TaskStatus, TaskStatus[]> = {
  queued: ["queued", "starting", "failed", "timed_out", "rejected", "stopped", "forwarded"],
  starting: ["starting", "running", "failed", "timed_out", "stopped"],
  running: ["running", "needs_input", "succeeded", "failed", "timed_out", "stopped"],
  needs_input: ["needs_input", "running", "succeeded", "failed", "timed_out", "stopped"],
  succeeded: [],
  failed: [],
  timed_out: [],
  rejected: [],
  stopped: [],
  forwarded: [],
  answered: [],
};

describe("task transitions", () => {
  it.each(ALL)("from %s, allows exactly the moves of the diagram", (from) => {
    const allowed = ALL.filter((to) => {
      try {
        transition(at(from), to, {}, T0);
        return true;
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidTransition);
        return false;
      }
    });
    expect(allowed.sort()).toEqual([...EXPECTED[from]].sort());
  });

  it("never ends a task twice: a final status is final", () => {
    for (const from of FINAL_STATUSES)
      for (const to of ALL) expect(() => transition(at(from), to)).toThrow(`task cannot go from ${from} to ${to}`);
  });

  it("a conversation is reported only after it ran: no success straight from the queue or the start", () => {
    expect(() => transition(at("queued"), "succeeded")).toThrow(InvalidTransition);
    expect(() => transition(at("starting"), "succeeded")).toThrow(InvalidTransition);
  });

  it("returns a new task with the changes and the time, leaving the old one as it was", () => {
    const before = at("queued");
    const later = new Date(T0.getTime() + 60_000);
    const after = transition(before, "starting", { startTaskId: "s1" }, later);
    expect(after).toMatchObject({
      status: "starting",
      startTaskId: "s1",
      updatedAt: later.toISOString(),
      createdAt: T0.toISOString(),
    });
    expect(before).toMatchObject({ status: "queued", updatedAt: T0.toISOString() });
    expect(before.startTaskId).toBeUndefined();
  });

  it("sorts every status into pending or final, and counts only live sandboxes against the cap", () => {
    for (const status of ALL) expect(isPending(status)).toBe(!isFinal(status));
    expect(ALL.filter(isPending)).toEqual(["queued", "starting", "running", "needs_input"]);
    expect(ACTIVE_STATUSES).toEqual(["starting", "running", "needs_input"]);
  });

  it("a new task is queued, untried, due at its first attempt", () => {
    const firstAttempt = new Date(T0.getTime() + 120_000);
    expect(newTask("c".repeat(32), request, T0, firstAttempt)).toEqual({
      id: "c".repeat(32),
      status: "queued",
      request,
      attempts: 0,
      nextAttemptAt: firstAttempt.toISOString(),
      createdAt: T0.toISOString(),
      updatedAt: T0.toISOString(),
    });
  });
});
