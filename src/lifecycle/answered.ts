import { createComment } from "../github/thread";
import { helpReply, type StatusLine, statusReply } from "../report/messages";
import { replyNotAllowed } from "../report/not-allowed";
import type { Services } from "../services";
import type { Task } from "../tasks/task";
import { threadOf } from "../trigger/request";

/** What a command has to say on its thread, as data: the words are report/messages.ts's. */
export type CommandAnswer = { kind: "help" } | { kind: "status"; lines: readonly StatusLine[] };

/**
 * A command's one move: its reply. The record was written "answered" before the command ran,
 * which is what keeps a redelivery from answering twice, and stays as it is.
 */
export async function answerCommand(services: Services, task: Task, answer: CommandAnswer): Promise<void> {
  const { request } = task;
  const body =
    answer.kind === "help"
      ? // The words the request was decided with: the repository's, else the deployment's.
        helpReply({ words: request.settings, ...services.config })
      : statusReply(answer.lines, services.now());
  await createComment(services.github(request.installationId), threadOf(request), body);
}

/**
 * Someone who may not ask wrote a command: told why once a day, and, as for a request, nothing
 * of theirs is kept. The reply's marker on the thread keeps a redelivery from answering twice.
 */
export async function refuseCommand(services: Services, task: Task): Promise<void> {
  await replyNotAllowed(services, task.request);
  await services.store.delete(task.id);
}
