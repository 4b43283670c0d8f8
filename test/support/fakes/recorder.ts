import { getResponse, type HttpHandler } from "msw";

/** What a fake saw: every request, in order, with its parsed JSON body. */
export interface RecordedRequest {
  method: string;
  url: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
  /** When it arrived (ms); workerd's clock moves on I/O and timers, so real waits show here. */
  at: number;
}

export interface Fault {
  method: string;
  path: RegExp;
  times: number;
  respond: () => Response | Promise<Response>;
}

/** Shared plumbing of the fakes: recording and scripted failures. */
export class FakeBase {
  readonly requests: RecordedRequest[] = [];
  private faults: Fault[] = [];

  /** The next `times` matching requests get `respond()` instead of the fake's answer. */
  failNext(method: string, path: RegExp, respond: () => Response | Promise<Response>, times = 1): void {
    this.faults.push({ method, path, times, respond });
  }

  protected async record(request: Request): Promise<RecordedRequest> {
    const url = new URL(request.url);
    const body = await parsedBody(request);
    const headers: Record<string, string> = Object.fromEntries(request.headers);
    const recorded = {
      method: request.method,
      url: request.url,
      path: url.pathname,
      query: url.searchParams,
      headers,
      body,
      at: Date.now(),
    };
    this.requests.push(recorded);
    return recorded;
  }

  protected takeFault(method: string, path: string): Fault | undefined {
    const fault = this.faults.find((f) => f.method === method && f.path.test(path) && f.times > 0);
    if (fault) fault.times--;
    return fault;
  }

  /**
   * The answer of the route `request` names, if any. msw would also take a path with a trailing
   * slash for its route; the services answer only the path they document, so such a path has none.
   */
  protected async route(routes: HttpHandler[], request: Request, path: string): Promise<Response | undefined> {
    return path.length > 1 && path.endsWith("/") ? undefined : getResponse(routes, request);
  }

  find(method: string, path: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && path.test(r.path));
  }
}

/** What reading a body needs of a request: the Workers' and msw's types of it differ. */
interface BodySource {
  method: string;
  text(): Promise<string>;
}

/** The body as JSON when it parses, else as text; undefined when there is none. */
export async function parsedBody(request: BodySource): Promise<unknown> {
  const text = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}

/** The body's fields, for a route that reads them; no body, or one that is not JSON, has none. */
export async function bodyOf(request: BodySource): Promise<Record<string, unknown>> {
  return ((await parsedBody(request)) ?? {}) as Record<string, unknown>;
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/** The largest number of these request times (`at`, ms) that fall within one second of each other. */
export function mostInOneSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j]! - sorted[i]! >= 1000) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}
