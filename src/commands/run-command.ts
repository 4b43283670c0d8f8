import { hasWriteAccess } from "../github/permission";
import { answerCommand, refuseCommand } from "../lifecycle/answered";
import { runMetrics } from "../openhands/metrics";
import type { StatusLine } from "../report/messages";
import type { Services } from "../services";
import { conversationIdOf, isActive, isPending, type Task } from "../tasks/task";
import type { Command } from "../trigger/command";
import { type TriggerRequest, threadKey } from "../trigger/request";
import { stopTask } from "./stop-task";

/**
 * Runs a command someone wrote after the mention. Commands obey the same
 * permission gate as requests and never start a conversation.
 */
export async function runCommand(services: Services, recorded: Task, command: Command): Promise<string> {
  const { request } = recorded;
  if (
    !(await hasWriteAccess(services.github(request.installationId), request.owner, request.repo, request.requester))
  ) {
    await refuseCommand(services, recorded);
    return "not_allowed";
  }
  const tasks = await tasksOnThread(services, request);
  switch (command) {
    case "help":
      await answerCommand(services, recorded, { kind: "help" });
      return "help";
    case "status":
      await answerCommand(services, recorded, { kind: "status", lines: await withLiveState(services, tasks) });
      return "status";
    case "stop": {
      const active = tasks.filter((task) => isPending(task.status));
      for (const task of active) await stopTask(services, task, request.requester);
      if (active.length === 0) await answerCommand(services, recorded, { kind: "status", lines: [] });
      return `stopped ${active.length}`;
    }
  }
}

/** The tasks of this thread, newest first, found through the task index (one list). */
async function tasksOnThread(services: Services, request: TriggerRequest): Promise<Task[]> {
  const key = threadKey(request);
  const entries = (await services.store.entries()).filter(
    (e) => e.thread === key && e.status !== "rejected" && e.status !== "answered",
  );
  const tasks = (await Promise.all(entries.reverse().map((e) => services.store.get(e.id)))).filter(
    (task): task is Task => task !== null,
  );
  return tasks;
}

/**
 * How each task stands on OpenHands, in one batched read: a running agent's record
 * says "starting" (the poller does not write that step), and the conversation,
 * once it exists, says it runs and what it has cost so far.
 */
async function withLiveState(services: Services, tasks: Task[]): Promise<StatusLine[]> {
  const live = tasks.filter((task) => isActive(task.status));
  const conversations = live.length
    ? await services.openhands.conversations(live.map(conversationIdOf)).catch(() => [])
    : [];
  const conversationOf = new Map(live.map((task, i) => [task.id, conversations[i] ?? null]));
  return tasks.map((task) => {
    const link = services.openhands.conversationLink(conversationIdOf(task));
    const conversation = conversationOf.get(task.id);
    if (!conversation) return { task, link };
    const status = task.status === "starting" ? ("running" as const) : task.status;
    return { task: { ...task, status }, link, metrics: runMetrics(conversation, task.continues?.spentBefore) };
  });
}
