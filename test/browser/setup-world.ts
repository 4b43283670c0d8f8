import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LoopbackServer } from "../../demo/loopback";
import { DevWorker, freePort } from "../../demo/worker";
import { FakeGitHub } from "../support/fakes/github";
import { FakeGitHubWeb } from "../support/fakes/github-web";
import { FakeOpenHands } from "../support/fakes/openhands";

/**
 * What the browser test of /setup runs against, as demo/run.ts wires it: the
 * fakes on loopback ports and the Worker under `wrangler dev` pointed at them.
 * github.com's stand-in (GITHUB_URL) and the API's (GITHUB_API_URL) are two
 * origins, as on GitHub. github.com's is addressed as `localhost` and the Worker
 * as `127.0.0.1`, two sites to the browser (ports do not make one), so that
 * GitHub's redirect back is cross-site and leaves the setup session's
 * SameSite=Strict cookie out, as on the real web. The API server answers the manifest conversion first
 * and hands everything else to FakeGitHub. The Worker starts with no App at
 * all: no GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY or GITHUB_WEBHOOK_SECRET.
 */
export interface SetupWorld {
  worker: DevWorker;
  web: FakeGitHubWeb;
  github: FakeGitHub;
  openhands: FakeOpenHands;
  /** GITHUB_URL and GITHUB_API_URL as the Worker has them. */
  webUrl: string;
  apiUrl: string;
  setupToken: string;
  /** wrangler's log and the Worker's local state (KV). */
  workDir: string;
  /** Stops wrangler, then the servers; the work dir is removed unless `keep`. */
  stop(keep: boolean): Promise<void>;
}

export async function startSetupWorld(): Promise<SetupWorld> {
  const servers: LoopbackServer[] = [];
  const workDir = mkdtempSync(join(tmpdir(), "openhands-setup-"));
  let worker: DevWorker | undefined;
  const stop = async (keep: boolean) => {
    await worker?.stop();
    await Promise.all(servers.map((server) => server.close()));
    if (!keep) rmSync(workDir, { recursive: true, force: true });
  };
  try {
    const webServer = await LoopbackServer.start();
    const apiServer = await LoopbackServer.start();
    const openhandsServer = await LoopbackServer.start();
    const agentServer = await LoopbackServer.start();
    servers.push(webServer, apiServer, openhandsServer, agentServer);

    // Until an App is registered, the API knows only one whose key nobody here has.
    const nobody = generateKeyPairSync("rsa", { modulusLength: 2048 })
      .publicKey.export({ type: "spki", format: "pem" })
      .toString();
    const webUrl = webServer.url.replace("//127.0.0.1:", "//localhost:");
    const github = new FakeGitHub({ baseUrl: apiServer.url, appId: "1", appSlug: "nobody", publicKeyPem: nobody });
    // The example webhook's commenter, so that a request from them is served.
    github.permissions.set("codertocat", "admin");
    // Codertocat is signed in to GitHub, and owns the repository of the example webhook.
    const web = new FakeGitHubWeb({
      webUrl,
      apiUrl: apiServer.url,
      api: github,
      user: { login: "Codertocat", id: 21031067 },
    });
    webServer.serve(async (request) => web.handle(await addressedTo(webUrl, request)));
    apiServer.serve(async (request) => (await web.handle(request)) ?? github.handle(request));

    const openHandsApiKey = `oh_setup_${randomBytes(12).toString("hex")}`;
    const openhands = new FakeOpenHands({
      baseUrl: openhandsServer.url,
      agentServerUrl: agentServer.url,
      apiKey: openHandsApiKey,
    });
    openhands.nextScript = { ...FakeOpenHands.defaultScript(), startSteps: ["WORKING"] };
    openhandsServer.serve((request) => openhands.handle(request));
    agentServer.serve((request) => openhands.handle(request));

    const setupToken = randomBytes(24).toString("base64url");
    worker = DevWorker.spawn(workDir, await freePort(), {
      GITHUB_URL: webUrl,
      GITHUB_API_URL: apiServer.url,
      SETUP_TOKEN: setupToken,
      OPENHANDS_API_KEY: openHandsApiKey,
      OPENHANDS_BASE_URL: openhandsServer.url,
      // Octokit's quick retry need not wait a second here.
      GITHUB_RETRY_DELAY_MS: "0",
    });
    // Not set up yet, the Worker need not say it is healthy: any answer means it runs.
    await worker.waitUntilReady(() => true);
    return { worker, web, github, openhands, webUrl, apiUrl: apiServer.url, setupToken, workDir, stop };
  } catch (error) {
    await stop(true);
    throw error;
  }
}

/** The request on the origin the browser addressed (the loopback server rebuilds it on 127.0.0.1). */
async function addressedTo(origin: string, request: Request): Promise<Request> {
  const url = new URL(request.url);
  const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
  return new Request(`${origin}${url.pathname}${url.search}`, {
    method: request.method,
    headers: request.headers,
    body,
  });
}
