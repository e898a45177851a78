/**
 * Test helpers for the Stripe emulator: the one way tests build an SDK client for it, objects made through that
 * client, a session paid as the hosted page pays it, a local webhook receiver that checks signatures, and the shop's
 * own webhook function served over HTTP for the emulator to deliver to.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import { getRequestListener } from "@hono/node-server";
import Stripe from "stripe";
import { expect } from "vitest";
import { type LocalServer, listenLocally } from "./http.ts";

/**
 * A real `stripe` SDK client talking to the emulator at `emulatorUrl` over HTTP. No SDK retries unless asked, so an
 * injected failure reaches the test; any `sk_test_` key works there (another key is refused, as Stripe would).
 */
export function emulatorClient(
  emulatorUrl: string,
  options: { apiKey?: string; maxNetworkRetries?: number } = {},
): Stripe {
  const url = new URL(emulatorUrl);
  return new Stripe(options.apiKey ?? "sk_test_emulator_tests", {
    host: url.hostname,
    port: Number(url.port),
    protocol: "http",
    maxNetworkRetries: options.maxNetworkRetries ?? 0,
  });
}

/** A Product named `name` and its Price of `unitAmount` minor units in `currency`. */
export async function productWithPrice(
  stripe: Stripe,
  options: { name?: string; unitAmount?: number; currency?: string } = {},
): Promise<{ product: Stripe.Product; price: Stripe.Price }> {
  const product = await stripe.products.create({ name: options.name ?? "Linen tote" });
  const price = await stripe.prices.create({
    product: product.id,
    unit_amount: options.unitAmount ?? 1500,
    currency: options.currency ?? "usd",
  });
  return { product, price };
}

/** An open payment-mode Checkout Session of `quantity` x a new product's price, with any further `params`. */
export async function openSession(
  stripe: Stripe,
  options: Parameters<typeof productWithPrice>[1] & {
    quantity?: number;
    params?: Omit<Stripe.Checkout.SessionCreateParams, "mode" | "line_items">;
  } = {},
): Promise<Stripe.Checkout.Session> {
  const { price } = await productWithPrice(stripe, options);
  return stripe.checkout.sessions.create({
    mode: "payment",
    line_items: [{ price: price.id, quantity: options.quantity ?? 1 }],
    ...options.params,
  });
}

/** A line of an order: a new product of that name at `unitAmount` minor units. */
export interface OrderLine {
  name: string;
  unitAmount: number;
  quantity?: number;
}

/**
 * A Checkout Session of `lines` created through the SDK, then paid as the hosted page's Pay button pays it (through
 * the emulator's `/_emulator/.../complete` route). Its metadata is the `linkshop_id` a catalog Payment Link copies
 * onto its sessions, unless given. Returns the session's id.
 */
export async function paidSession(
  stripe: Stripe,
  emulatorUrl: string,
  lines: OrderLine[] = [{ name: "Mug", unitAmount: 1500 }],
  options: {
    currency?: string;
    payment?: "card" | "delayed_success" | "delayed_failure";
    email?: string;
    metadata?: Record<string, string>;
  } = {},
): Promise<string> {
  const lineItems = [];
  for (const line of lines) {
    const { price } = await productWithPrice(stripe, { ...line, currency: options.currency ?? "usd" });
    lineItems.push({ price: price.id, quantity: line.quantity ?? 1 });
  }
  const session = await stripe.checkout.sessions.create({
    mode: "payment",
    line_items: lineItems,
    success_url: "http://localhost:8888/thanks?session_id={CHECKOUT_SESSION_ID}",
    metadata: options.metadata ?? { linkshop_id: "mug" },
  });
  const paid = await fetch(`${emulatorUrl}/_emulator/checkout/sessions/${session.id}/complete`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      email: options.email ?? "jenny@example.com",
      name: "Jenny Rosen",
      payment: options.payment ?? "card",
    }),
  });
  expect(paid.ok, await paid.clone().text()).toBe(true);
  return session.id;
}

/** One request the receiver got, with the raw body exactly as sent. */
export interface ReceivedRequest {
  method: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An event the receiver got: id, type and the object it is about (a Checkout Session for the shop's events). */
export interface ReceivedEvent {
  id: string;
  type: string;
  object: Stripe.Checkout.Session;
}

/**
 * How the receiver answers an event: a status, or a promise of one to hold the answer until the test lets it go.
 * `earlier` counts the earlier arrivals of the same event id.
 */
export type Answer = (event: ReceivedEvent, earlier: number) => number | Promise<number>;

/** Answers with `statuses` in turn, then 200 (a flaky endpoint: `inTurn(500, 500)`). */
export function inTurn(...statuses: number[]): Answer {
  const script = [...statuses];
  return () => script.shift() ?? 200;
}

export interface Receiver extends LocalServer {
  /** Every request, in arrival order. */
  received: ReceivedRequest[];
  /** With a `secret`: the events whose Stripe-Signature verified, in arrival order. */
  events: ReceivedEvent[];
  /** With a `secret`: the requests refused with 400 for a missing or wrong signature. */
  rejected: number;
  /**
   * The events among `received` (only those of `type`, when given), each verified over its raw body with `secret`
   * (default: the receiver's) as the shop's webhook verifies them; throws on a delivery that does not verify.
   */
  verified(type?: string, secret?: string): Promise<Stripe.Event[]>;
}

const verifier = new Stripe("sk_test_receiver_verifies_only");

/**
 * A webhook endpoint at `<url>/api/stripe-webhook` on 127.0.0.1. With `secret` it checks every Stripe-Signature as
 * the shop's webhook does and answers 400 to a bad one; each other request gets what `answer` says (default 200).
 */
export async function startReceiver(options: { secret?: string; answer?: Answer } = {}): Promise<Receiver> {
  const { secret, answer = () => 200 } = options;
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    receiver.received.push({ method: request.method ?? "", headers: request.headers, body });
    let event: ReceivedEvent;
    try {
      const parsed = secret
        ? await verifier.webhooks.constructEventAsync(body, request.headers["stripe-signature"] ?? "", secret)
        : (JSON.parse(body) as Stripe.Event);
      event = { id: parsed.id, type: parsed.type, object: parsed.data?.object as Stripe.Checkout.Session };
    } catch {
      if (secret) {
        receiver.rejected += 1;
        response.writeHead(400, { "content-type": "text/plain" }).end("bad signature");
        return;
      }
      event = { id: "", type: "", object: {} as Stripe.Checkout.Session };
    }
    const earlier = receiver.events.filter((other) => other.id === event.id).length;
    if (secret) receiver.events.push(event);
    const status = await answer(event, earlier);
    response.writeHead(status, { "content-type": "text/plain" }).end("ok");
  });
  const local = await listenLocally(server);
  const receiver: Receiver = {
    url: `${local.url}/api/stripe-webhook`,
    close: local.close,
    received: [],
    events: [],
    rejected: 0,
    async verified(type, withSecret = secret) {
      if (!withSecret) throw new Error("verified() needs the secret the deliveries were signed with");
      const events: Stripe.Event[] = [];
      for (const request of receiver.received) {
        const signature = request.headers["stripe-signature"];
        if (typeof signature !== "string") throw new Error("a delivery without Stripe-Signature");
        const event = await verifier.webhooks.constructEventAsync(request.body, signature, withSecret);
        if (type === undefined || event.type === type) events.push(event);
      }
      return events;
    },
  };
  return receiver;
}

/** What the shop's webhook function answered to one delivery. */
export interface FunctionAnswer {
  /** The delivered event's type, read from the body (the function verified it). */
  type: string;
  eventId: string;
  status: number;
  /** The JSON the function answered, e.g. `{ received: true, outcome: "ignored" }`. */
  body: unknown;
}

export interface WebhookFunction extends LocalServer {
  /** Every answer, in the order they were given. */
  answers: FunctionAnswer[];
  /** Serves the function from now on (e.g. `webhookFromEnv(env)`); until then each request gets 503. */
  serve(handle: (request: Request) => Promise<Response>): void;
}

/**
 * The shop's webhook function at `<url>/api/stripe-webhook` on 127.0.0.1, as netlify dev serves it. It starts before
 * the function exists, so its URL can be given to the emulator whose URL the function's environment needs.
 */
export async function startWebhookFunction(): Promise<WebhookFunction> {
  let handle: ((request: Request) => Promise<Response>) | undefined;
  const server = createServer(
    getRequestListener(async (request) => {
      if (!handle) return new Response("not ready", { status: 503 });
      const event = (await request
        .clone()
        .json()
        .catch(() => ({}))) as { id?: unknown; type?: unknown };
      const response = await handle(request);
      fn.answers.push({
        type: String(event.type),
        eventId: String(event.id),
        status: response.status,
        body: await response
          .clone()
          .json()
          .catch(() => null),
      });
      return response;
    }),
  );
  const local = await listenLocally(server);
  const fn: WebhookFunction = {
    url: `${local.url}/api/stripe-webhook`,
    close: local.close,
    answers: [],
    serve(next) {
      handle = next;
    },
  };
  return fn;
}

/** A proxy in front of the emulator that records what reaches it, so tests can count a command's writes. */
export interface CountingProxy extends LocalServer {
  /** `METHOD /path` of every request forwarded, oldest first. */
  requests: string[];
  /** The next request whose `METHOD /path` starts with this is refused with a Stripe-shaped 400 (not retried). */
  refuseNext: string | undefined;
}

/** Forwards every request to `target` (the emulator's URL) and records method and path. */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const server = createServer(async (req, res) => {
    const request = `${req.method} ${req.url?.split("?")[0]}`;
    if (proxy.refuseNext && request.startsWith(proxy.refuseNext)) {
      proxy.refuseNext = undefined;
      res.writeHead(400, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ error: { type: "invalid_request_error", message: "Refused by the test proxy." } }),
      );
      return;
    }
    proxy.requests.push(request);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === "string" && !["host", "connection", "content-length"].includes(name))
        headers.set(name, value);
    }
    const upstream = await fetch(`${target}${req.url}`, {
      method: req.method,
      headers,
      ...(chunks.length > 0 && { body: Buffer.concat(chunks) }),
    });
    const body = Buffer.from(await upstream.arrayBuffer());
    res.writeHead(upstream.status, {
      "content-type": upstream.headers.get("content-type") ?? "application/json",
    });
    res.end(body);
  });
  const proxy: CountingProxy = { ...(await listenLocally(server)), requests: [], refuseNext: undefined };
  return proxy;
}
