// What `stripe listen` talks to: POST /v1/stripecli/sessions, then a websocket that carries signed events to the
// CLI, which forwards them and reports each answer back (protocol of stripe-cli's pkg/stripeauth and pkg/websocket).
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import * as v from "valibot";
import { type WebSocket, WebSocketServer } from "ws";
import { invalidParam } from "./errors.ts";
import { type EventObject, newId } from "./objects.ts";
import type { Params } from "./params.ts";
import { type Delivery, signatureHeader } from "./webhooks.ts";

/** Path of the websocket the CLI dials (the emulator's own; Stripe's is on another host). */
export const LISTEN_SOCKET_PATH = "/stripecli/websocket";
/** The websocket subprotocol the CLI asks for. */
const SUBPROTOCOL = "stripecli-devproxy-v1";
/** How long a CLI keeps one connection before redialling, seconds. Long: a redial is a window with no CLI. */
const RECONNECT_DELAY_S = 24 * 60 * 60;

/** How many sent-but-unanswered events are remembered for the delivery log. */
const MAX_UNANSWERED = 10_000;

/** One `stripe listen` (or `--print-secret`) session, created by POST /v1/stripecli/sessions. */
interface CliSession {
  websocketId: string;
  /** Where the CLI says it forwards events (`--forward-to`, normalised); null when it only prints them. */
  forwardTo: URL | null;
  sockets: Set<WebSocket>;
}

/** The CLI's answer after forwarding an event: the local endpoint's status. */
const WebhookResponse = v.object({
  type: v.literal("webhook_response"),
  webhook_id: v.optional(v.string()),
  webhook_conversation_id: v.optional(v.string()),
  forward_url: v.string(),
  status: v.number(),
  notification_id: v.optional(v.string()),
});

const EventAck = v.object({
  type: v.literal("event_ack"),
  event_id: v.string(),
  webhook_id: v.optional(v.string()),
});

/** The same stripe-cli `parseURL` rules: a bare port or a path means localhost, no scheme means http. */
export function forwardUrl(value: string): URL | null {
  let url = value.trim();
  if (url === "") return null;
  if (/^\d+$/.test(url)) url = `localhost:${url}`;
  if (url.startsWith("/")) url = `localhost${url}`;
  if (!/^https?:\/\//.test(url)) url = `http://${url}`;
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "0.0.0.0"]);

/** Whether two URLs reach the same local server (any loopback name, same port). */
export function sameLocalServer(a: URL, b: URL): boolean {
  const port = (url: URL) => url.port || (url.protocol === "https:" ? "443" : "80");
  const host = (url: URL) => (LOOPBACK.has(url.hostname) ? "loopback" : url.hostname);
  return host(a) === host(b) && port(a) === port(b);
}

export interface ListenHubOptions {
  /** The whsec_ secret events are signed with: the CLI prints it, and the local function must verify with it. */
  secret: string;
  apiVersion: string;
  /** Told about every answer the CLI reports, for the delivery log. */
  onDelivery: (delivery: Delivery) => void;
}

/** The CLI sessions and their websockets. */
export class ListenHub {
  readonly #options: ListenHubOptions;
  readonly #sessions = new Map<string, CliSession>();
  readonly #sockets = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });
  /** webhook_id -> the event sent under it, to name the event in the delivery log when the answer comes. */
  readonly #sent = new Map<string, EventObject>();
  #baseUrl = "";

  constructor(options: ListenHubOptions) {
    this.#options = options;
  }

  /** Serves the websocket on `server` (whose address is `baseUrl`, http://...). */
  attach(server: Server, baseUrl: string): void {
    this.#baseUrl = baseUrl;
    server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#upgrade(request, socket, head);
    });
  }

  /** POST /v1/stripecli/sessions: what `stripe listen` asks for before it dials the websocket. */
  createSession(params: Params): Record<string, unknown> {
    // Not a public API: CLI versions add parameters, so unknown ones are ignored rather than rejected.
    params.requiredString("device_name");
    const features = params.stringList("websocket_features") ?? [];
    if (!features.includes("webhooks")) {
      throw invalidParam(
        "websocket_features",
        "The emulator serves the `webhooks` websocket feature only (stripe listen without --thin-events).",
      );
    }
    const forwardTo = params.string("forward_to_url");
    const websocketId = newId("cliws");
    this.#sessions.set(websocketId, {
      websocketId,
      forwardTo: forwardTo === undefined ? null : forwardUrl(forwardTo),
      sockets: new Set(),
    });
    return {
      object: "stripecli.session",
      default_version: this.#options.apiVersion,
      device_token: newId("cli_device"),
      display_connect_filter_warning: false,
      latest_version: this.#options.apiVersion,
      reconnect_delay: RECONNECT_DELAY_S,
      secret: this.#options.secret,
      websocket_authorized_feature: "webhooks",
      websocket_id: websocketId,
      websocket_url: `${this.#baseUrl.replace(/^http/, "ws")}${LISTEN_SOCKET_PATH}`,
    };
  }

  /** Connected CLIs, each with where it forwards (null: printing only). */
  connected(): (URL | null)[] {
    return [...this.#sessions.values()].filter((s) => s.sockets.size > 0).map((s) => s.forwardTo);
  }

  /** Whether a connected CLI forwards to the same local server as `url`. */
  forwardsTo(url: string): boolean {
    const target = new URL(url);
    return this.connected().some((forward) => forward !== null && sameLocalServer(forward, target));
  }

  /**
   * Sends `event` to every connected CLI, signed as Stripe signs for listen; returns how many got it. The CLI applies
   * its own `--events` filter after this.
   */
  send(event: EventObject): number {
    let count = 0;
    for (const session of this.#sessions.values()) {
      for (const socket of session.sockets) {
        const webhookId = newId("we_cli");
        const payload = JSON.stringify(event, null, 2);
        this.#sent.set(webhookId, event);
        // Events the CLI's --events filter drops are never answered: forget the oldest beyond a bound.
        if (this.#sent.size > MAX_UNANSWERED) this.#sent.delete(this.#sent.keys().next().value as string);
        socket.send(
          JSON.stringify({
            type: "webhook_event",
            webhook_id: webhookId,
            webhook_conversation_id: newId("wc"),
            event_payload: payload,
            endpoint: { api_version: null },
            http_headers: {
              "Content-Type": "application/json; charset=utf-8",
              "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
              "Cache-Control": "no-cache",
              Accept: "*/*; q=0.5, application/xml",
              "Stripe-Signature": signatureHeader(
                payload,
                this.#options.secret,
                Math.floor(Date.now() / 1000),
              ),
            },
          }),
        );
        count += 1;
      }
    }
    return count;
  }

  /** Closes every websocket (the CLIs see the emulator going away). */
  async close(): Promise<void> {
    for (const client of this.#sockets.clients) client.terminate();
    await new Promise<void>((resolve) => this.#sockets.close(() => resolve()));
    this.#sessions.clear();
  }

  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(request.url ?? "/", "http://emulator").pathname;
    const header = request.headers["websocket-id"];
    const session = typeof header === "string" ? this.#sessions.get(header) : undefined;
    if (path !== LISTEN_SOCKET_PATH || !session) {
      // The CLI reads this message to tell an expired session (it then creates a new one) from a network error.
      const body = JSON.stringify({
        error: { type: "invalid_request_error", message: "Unknown WebSocket ID." },
      });
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    this.#sockets.handleUpgrade(request, socket, head, (ws) => {
      session.sockets.add(ws);
      ws.on("close", () => session.sockets.delete(ws));
      ws.on("error", () => session.sockets.delete(ws));
      ws.on("message", (data) => this.#receive(String(data)));
    });
  }

  #receive(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (v.is(EventAck, message)) return;
    const parsed = v.safeParse(WebhookResponse, message);
    if (!parsed.success) return;
    const response = parsed.output;
    const event = response.webhook_id === undefined ? undefined : this.#sent.get(response.webhook_id);
    if (!event) return;
    this.#sent.delete(response.webhook_id as string);
    const ok = response.status >= 200 && response.status < 300;
    this.#options.onDelivery({
      eventId: event.id,
      type: event.type,
      attempt: 1,
      status: response.status,
      ...(!ok && { error: `HTTP ${response.status}` }),
      at: new Date().toISOString(),
      url: response.forward_url,
      // The CLI forwards each event once, as it arrives, and never retries.
      queuedMs: 0,
      retryInMs: null,
    });
  }
}
