// Test helpers for the Stripe emulator: an SDK client pointed at it, and a scripted local webhook receiver.
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";

/** A real `stripe` SDK client talking to the emulator over HTTP; no SDK retries unless asked. */
export function emulatorClient(emulatorUrl: string, maxNetworkRetries = 0): Stripe {
  const url = new URL(emulatorUrl);
  return new Stripe("sk_test_emulator_tests", {
    host: url.hostname,
    port: Number(url.port),
    protocol: "http",
    maxNetworkRetries,
  });
}

/** One request the receiver got, with the raw body exactly as sent. */
export interface ReceivedRequest {
  method: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Receiver {
  url: string;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

/** A webhook endpoint on 127.0.0.1 that answers the given statuses in turn, then 200. */
export async function startReceiver(statuses: number[] = []): Promise<Receiver> {
  const received: ReceivedRequest[] = [];
  const script = [...statuses];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({
        method: request.method ?? "",
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      response.writeHead(script.shift() ?? 200, { "content-type": "text/plain" });
      response.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
