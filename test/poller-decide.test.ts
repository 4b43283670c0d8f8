import { describe, expect, it } from "vitest";
import type { AppConversation, StartTask } from "../src/openhands/types";
import { decideRun, decideStart, UNKNOWN_START_TASK_GRACE_MS } from "../src/poller/decide";
import { failureWords } from "../src/report/messages";
import { newTask, transition } from "../src/tasks/task";
import { sampleRequest } from "./support/fixtures";

// The pure half of the poller: what a status read from OpenHands means for a task.
const MIN = 60_000;
const T0 = Date.parse("2026-11-26T12:00:00Z");
const config = { startTimeoutMs: 15 * MIN, runTimeoutMs: 60 * MIN };

const request = sampleRequest;

const queued = newTask("a".repeat(32), request, new Date(T0), new Date(T0));
const starting = transition(
  queued,
  "starting",
  { startTaskId: "s1", startedAt: new Date(T0 + 2 * MIN).toISOString() },
  new Date(T0 + 2 * MIN),
);
const running = transition(
  starting,
  "running",
  { readyAt: new Date(T0 + 5 * MIN).toISOString() },
  new Date(T0 + 5 * MIN),
);
const waitingForHuman = transition(running, "needs_input", {}, new Date(T0 + 6 * MIN));

const startTask = (status: string, detail?: string): StartTask => ({ id: "s1", status, detail });
const conversation = (sandbox_status: string, execution_status?: string | null): AppConversation => ({
  id: queued.id,
  sandbox_status,
  execution_status,
});

describe("decideStart", () => {
  it("follows the conversation once it exists, whatever the start task says", () => {
    expect(decideStart(starting, startTask("ERROR", "boom"), conversation("RUNNING", "running"), T0, config)).toEqual({
      kind: "ready",
    });
    expect(decideStart(starting, null, conversation("STARTING"), T0, config)).toEqual({ kind: "ready" });
  });

  it("gives a start task the service does not know yet a grace period, counted from the start", () => {
    const since = Date.parse(starting.startedAt!);
    expect(decideStart(starting, null, null, since + UNKNOWN_START_TASK_GRACE_MS, config)).toEqual({ kind: "wait" });
    expect(decideStart(starting, null, null, since + UNKNOWN_START_TASK_GRACE_MS + 1, config)).toEqual({
      kind: "fail",
      reason: { kind: "start_unknown" },
    });
  });

  it("reads READY as ready and ERROR as a failed start with the service's detail", () => {
    expect(decideStart(starting, startTask("READY"), null, T0, config)).toEqual({ kind: "ready" });
    const failed = decideStart(starting, startTask("ERROR", "  no credits left \n"), null, T0, config);
    expect(failed).toEqual({ kind: "start_failed", detail: "  no credits left \n" });
    expect(failureWords({ kind: "start_errored", detail: "  no credits left \n" })).toBe("no credits left");
    expect(decideStart(starting, startTask("ERROR", "  "), null, T0, config)).toEqual({
      kind: "start_failed",
      detail: "  ",
    });
    expect(failureWords({ kind: "start_errored", detail: "  " })).toBe("OpenHands could not start the conversation");
  });

  it("waits on any other status, known or newer than this code, until the start deadline", () => {
    const since = Date.parse(starting.startedAt!);
    for (const status of ["WORKING", "WAITING_FOR_SANDBOX", "SETTING_UP_SKILLS", "SOMETHING_NEW"]) {
      expect(decideStart(starting, startTask(status), null, since + config.startTimeoutMs, config)).toEqual({
        kind: "wait",
      });
      expect(decideStart(starting, startTask(status), null, since + config.startTimeoutMs + 1, config)).toEqual({
        kind: "timeout",
      });
    }
  });

  it("counts from the record's creation when the start time is missing", () => {
    const noStart = { ...starting, startedAt: undefined };
    expect(decideStart(noStart, startTask("WORKING"), null, T0 + config.startTimeoutMs + 1, config)).toEqual({
      kind: "timeout",
    });
  });
});

describe("decideRun", () => {
  const now = T0 + 10 * MIN;

  it("fails a task whose conversation is gone", () => {
    expect(decideRun(running, null, now, config)).toEqual({
      kind: "fail",
      reason: { kind: "conversation_gone" },
    });
  });

  it("reads the agent's end from a running sandbox", () => {
    expect(decideRun(running, conversation("RUNNING", "finished"), now, config)).toEqual({ kind: "finished" });
    expect(decideRun(running, conversation("RUNNING", "error"), now, config)).toEqual({
      kind: "agent_failed",
      status: "error",
    });
    expect(decideRun(running, conversation("RUNNING", "stuck"), now, config)).toEqual({
      kind: "agent_failed",
      status: "stuck",
    });
    expect(decideRun(running, conversation("RUNNING", "waiting_for_confirmation"), now, config)).toEqual({
      kind: "needs_input",
    });
  });

  it("keeps waiting on a working agent, or on a status newer than this code", () => {
    for (const status of ["running", "idle", "paused", null, undefined, "thinking_hard"]) {
      expect(decideRun(running, conversation("RUNNING", status), now, config)).toEqual({ kind: "wait" });
    }
    expect(decideRun(running, conversation("STARTING"), now, config)).toEqual({ kind: "wait" });
  });

  it("sees a human's answer to the confirmation prompt as back to work", () => {
    expect(decideRun(waitingForHuman, conversation("RUNNING", "running"), now, config)).toEqual({
      kind: "back_to_work",
    });
    expect(decideRun(waitingForHuman, conversation("RUNNING", "waiting_for_confirmation"), now, config)).toEqual({
      kind: "needs_input",
    });
  });

  it("asks the events how a run ended when the sandbox no longer says, and may resume only a paused one", () => {
    expect(decideRun(running, conversation("PAUSED", null), now, config)).toEqual({
      kind: "from_events",
      mayResume: true,
    });
    expect(decideRun(running, conversation("MISSING", null), now, config)).toEqual({
      kind: "from_events",
      mayResume: false,
    });
    expect(decideRun(running, conversation("RUNNING", "deleting"), now, config)).toEqual({
      kind: "from_events",
      mayResume: false,
    });
    expect(decideRun(running, conversation("ERROR", null), now, config)).toEqual({
      kind: "fail",
      reason: { kind: "sandbox_failed" },
    });
  });

  it("tells a resumed agent to go on once, since a resumed run reads error until it gets a message", () => {
    const resumed = { ...running, resumed: true };
    expect(decideRun(resumed, conversation("RUNNING", "error"), now, config)).toEqual({ kind: "continue" });
    expect(decideRun({ ...resumed, continued: true }, conversation("RUNNING", "error"), now, config)).toMatchObject({
      kind: "agent_failed",
    });
    expect(decideRun(resumed, conversation("RUNNING", "finished"), now, config)).toEqual({ kind: "finished" });
  });

  it("times a run out from the moment its conversation was ready, but never hides an end", () => {
    const ready = Date.parse(running.readyAt!);
    expect(decideRun(running, conversation("RUNNING", "running"), ready + config.runTimeoutMs, config)).toEqual({
      kind: "wait",
    });
    expect(decideRun(running, conversation("RUNNING", "running"), ready + config.runTimeoutMs + 1, config)).toEqual({
      kind: "timeout",
    });
    expect(decideRun(running, conversation("RUNNING", "finished"), ready + 10 * config.runTimeoutMs, config)).toEqual({
      kind: "finished",
    });
  });
});
