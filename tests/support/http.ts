/** Local HTTP for tests: a server on a free port of 127.0.0.1, and requests with headers `fetch` will not send. */
import { request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A running local web server. */
export interface LocalServer {
  /** e.g. http://127.0.0.1:54321, no trailing slash. */
  url: string;
  /** Stops listening and drops open keep-alive connections, so it never waits on a client. */
  close(): Promise<void>;
}

/** Starts `server` on a free port of 127.0.0.1 and resolves once it listens. */
export async function listenLocally(server: Server): Promise<LocalServer> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * One HTTP request with exactly the given headers, `Host` included (fetch always sends the URL's own): how a
 * request that reached a local server under another name, e.g. by DNS rebinding, looks to it.
 */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      url,
      { method: options.method ?? "GET", headers: options.headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
      },
    );
    outgoing.on("error", reject);
    outgoing.end(options.body);
  });
}
