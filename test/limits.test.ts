import { describe, expect, it } from "vitest";
import { callWorker, examplePayloads, kvSnapshot, runCron, signedWebhook, startFakes } from "./support/harness";
import { quickScript } from "./support/world";

describe("a maintainer labels 40 issues at once, with default settings", () => {
  it("every issue gets exactly one result; never more than MAX_RUNNING_CONVERSATIONS run at a time", {
    timeout: 120_000,
  }, async () => {
    const fakes = startFakes();
    fakes.github.permissions.set("codertocat", "write");
    fakes.openhands.nextScript = quickScript();
    const installationId = 8_100_000;
    const label = async (i: number) => {
      const payload = examplePayloads("issues").find((p) => p.action === "labeled")!;
      payload.installation = { id: installationId, node_id: "x" };
      payload.label = { ...payload.label, name: "openhands-app" };
      payload.issue.number = 100 + i;
      payload.issue.id = 9_000_000 + i;
      return (await callWorker(await signedWebhook("issues", payload), fakes.env)).status;
    };
    const statuses = await Promise.all(Array.from({ length: 40 }, (_, i) => label(i)));
    expect(statuses.every((s) => s === 202)).toBe(true);

    let maxActive = 0;
    let ended = 0;
    for (let tick = 1; tick <= 80 && ended < 40; tick++) {
      await runCron(fakes.env, new Date(Date.now() + tick * 2 * 60_000));
      const states = (await kvSnapshot(fakes.env))
        .filter((e) => e.name.startsWith("task:"))
        .map((e) => (e.metadata as { s: string }).s);
      maxActive = Math.max(maxActive, states.filter((s) => ["starting", "running", "needs_input"].includes(s)).length);
      ended = states.filter((s) => s === "succeeded").length;
    }
    expect(ended).toBe(40);
    expect(maxActive).toBeLessThanOrEqual(8);
    expect(maxActive).toBeGreaterThan(1);
    for (let i = 0; i < 40; i++) {
      const thread = fakes.github.commentsOn("Codertocat", "Hello-World", 100 + i);
      expect(thread).toHaveLength(1);
      expect(thread[0]!.body).toContain("OpenHands finished");
    }
    expect(fakes.openhands.startTasks.size).toBe(40);
  });
});
