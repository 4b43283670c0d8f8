import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Serves a fake (anything with a fetch-style `handle(Request)`) on a loopback
 * port, so the Worker running in workerd can reach it over real HTTP.
 */
export type Handler = (request: Request) => Promise<Response | undefined>;

/** One request and its answer, parsed, for the timeline. */
export interface Exchange {
  method: string;
  url: URL;
  requestBody: unknown;
  status: number;
  responseBody: unknown;
}

export class LoopbackServer {
  private handler?: Handler;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  /**
   * Listens on a free port first and takes its handler later: the fakes need
   * their own base URL at construction, and the port is known only once bound.
   */
  static async start(onExchange: (exchange: Exchange) => void = () => {}): Promise<LoopbackServer> {
    let self: LoopbackServer | undefined;
    const server = createServer((req, res) => {
      void self!.answer(req, res, onExchange);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    const { port } = server.address() as AddressInfo;
    self = new LoopbackServer(server, `http://127.0.0.1:${port}`);
    return self;
  }

  serve(handler: Handler): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    // workerd keeps connections alive; without this, close() would wait for them.
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async answer(
    req: IncomingMessage,
    res: ServerResponse,
    onExchange: (exchange: Exchange) => void,
  ): Promise<void> {
    try {
      const body = await readBody(req);
      const request = toRequest(this.url, req, body);
      const response = (this.handler && (await this.handler(request))) ?? notHandled(request);
      const text = await response.clone().text();
      onExchange({
        method: request.method,
        url: new URL(request.url),
        requestBody: parseJson(body.toString("utf8")),
        status: response.status,
        responseBody: parseJson(text),
      });
      await sendResponse(res, response);
    } catch (error) {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(`demo server error: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The URL is rebuilt on this server's base, which is what the fakes match on. */
function toRequest(baseUrl: string, req: IncomingMessage, body: Buffer): Request {
  const headers = new Headers();
  // rawHeaders keeps repeated headers apart, as the fakes would see them from fetch.
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD" && body.length > 0;
  return new Request(baseUrl + (req.url ?? "/"), { method, headers, body: hasBody ? body : undefined });
}

async function sendResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  // The body is sent whole, so framing headers from the fake would be wrong.
  delete headers["content-length"];
  delete headers["transfer-encoding"];
  const body = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, { ...headers, "content-length": String(body.length) });
  res.end(body);
}

function notHandled(request: Request): Response {
  return new Response(JSON.stringify({ message: `the demo fake does not handle ${request.method} ${request.url}` }), {
    status: 404,
    headers: { "content-type": "application/json" },
  });
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
