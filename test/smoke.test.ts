import { exports } from "cloudflare:workers";
import { http, HttpResponse } from "msw";
import { expect, it } from "vitest";
import { network } from "./setup";
it("works", async () => {
  network.use(http.get("https://api.github.com/zen", () => HttpResponse.text("hi")));
  const r = await exports.default.fetch("http://x/healthz");
  expect(await r.json()).toEqual({ ok: true, zen: "hi" });
});
