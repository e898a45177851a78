// A local Stripe API emulator: the server STRIPE_API_BASE points to when the shop runs offline or in tests.
import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import Stripe from "stripe";
import { apiRoutes } from "./api.ts";
import { checkoutRoutes } from "./checkout-page.ts";
import { devRoutes } from "./dev-routes.ts";
import { errorResponse, StripeError } from "./errors.ts";
import { ListenHub } from "./listen.ts";
import type { EventObject } from "./objects.ts";
import {
  type CompletionInput,
  type CompletionResult,
  completeSession,
  settleDelayedPayment,
} from "./sessions.ts";
import { EmulatorState } from "./state.ts";
import {
  BackgroundTasks,
  type Delivery,
  eventEnabled,
  WebhookDeliverer,
  type WebhookTarget,
} from "./webhooks.ts";

export type { CompletionInput, CompletionResult, PaymentChoice, ShippingInput } from "./sessions.ts";
export type { Delivery } from "./webhooks.ts";
export { signatureHeader } from "./webhooks.ts";

export interface StripeEmulatorOptions {
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /**
   * Where and how to deliver events, like `stripe listen --forward-to <url> [--events ...]`; `events` defaults to
   * every type. Optional: without it events are only recorded.
   */
  webhook?: { url: string; secret: string /* whsec_... */; events?: readonly string[] };
  /** Waits before each retry of a failed delivery, ms; default [1000, 2000, 4000, 8000, 16000]. */
  retryDelaysMs?: number[];
  /** How long a "delayed payment method" session waits before its async result event, ms (default 5000). */
  asyncPaymentDelayMs?: number;
  /**
   * How long one delivery attempt may take before it counts as failed, ms (default 45000: longer than netlify dev's
   * own 30 s function limit, so a slow local function is answered by netlify dev rather than cut off here).
   */
  deliveryTimeoutMs?: number;
  /** Requests in flight per endpoint at most; the rest wait their turn (default 4). See DelivererOptions. */
  maxInFlight?: number;
  /** Called after every delivery attempt, e.g. to print progress. */
  onDelivery?: (delivery: Delivery) => void;
  /**
   * The whsec_ secret `stripe listen` sessions get (and print); default: the `webhook` secret, so the function that
   * verifies the emulator's own deliveries verifies the CLI's too. Without either, a random one.
   */
  listenSecret?: string;
}

/** Options for redelivering an existing event (duplicate-delivery drills). */
export interface ResendOptions {
  /** How many extra deliveries per endpoint (default 1). */
  times?: number;
  /** Send them all at once instead of one after another. */
  concurrent?: boolean;
}

export interface StripeEmulator {
  /** e.g. http://127.0.0.1:12111 (the value of STRIPE_API_BASE). */
  url: string;
  /** Stops the server and pending retries/timers. */
  close(): Promise<void>;
  /** The delivery log: every attempt, oldest first. */
  deliveries(): Delivery[];
  /** Resolves when every queued delivery (incl. retries) and pending delayed payment has finished. */
  idle(): Promise<void>;
  /** The next `count` requests whose path starts with `pathPrefix` fail with `status` and a Stripe error body. */
  failNext(pathPrefix: string, status: number, count?: number): void;
  /** Pays an open session exactly as the hosted page's Pay button does. */
  completeSession(sessionId: string, input: CompletionInput): CompletionResult;
  /** Delivers an existing event again; resolves with the attempts it made once they finished. */
  resend(eventId: string, options?: ResendOptions): Promise<Delivery[]>;
  /** Every recorded event, oldest first. */
  events(): EventObject[];
  /** API requests (`/v1/...`) received so far, injected failures included, oldest first: what a shop costs in calls. */
  requests(): { method: string; path: string }[];
  /** The most deliveries in flight to one endpoint at a time. */
  readonly maxInFlight: number;
  /**
   * Delivery requests being sent now, attempts waiting for a free slot, and the most requests ever in flight to one
   * endpoint at the same moment.
   */
  deliveryQueue(): { inFlight: number; queued: number; peakInFlight: number };
  /**
   * Holds delayed payments: a "delayed payment method" session whose wait is over settles only once the returned
   * function is called (tests use it to look at the pending state for as long as they need).
   */
  holdDelayedPayments(): () => void;
}

/** What each timing option is when left out (see StripeEmulatorOptions). */
const DEFAULTS = {
  retryDelaysMs: [1000, 2000, 4000, 8000, 16000],
  asyncPaymentDelayMs: 5000,
  deliveryTimeoutMs: 45_000,
  maxInFlight: 4,
} satisfies StripeEmulatorOptions;

/** An injected failure: the next `remaining` requests whose path starts with `prefix` answer `status`. */
type FailureRule = { prefix: string; status: number; remaining: number };

function injectedError(status: number): StripeError {
  if (status === 429) {
    return new StripeError(429, "Too many requests (injected by the emulator).", { code: "rate_limit" });
  }
  if (status >= 500) return new StripeError(status, "Injected failure (emulator).", { type: "api_error" });
  return new StripeError(status, "Injected failure (emulator).");
}

/** Starts the emulator on 127.0.0.1 and resolves once it listens. */
export async function startStripeEmulator(options: StripeEmulatorOptions = {}): Promise<StripeEmulator> {
  const state = new EmulatorState(Stripe.API_VERSION);
  const tasks = new BackgroundTasks();
  const deliverer = new WebhookDeliverer(tasks, {
    retryDelaysMs: options.retryDelaysMs ?? DEFAULTS.retryDelaysMs,
    timeoutMs: options.deliveryTimeoutMs ?? DEFAULTS.deliveryTimeoutMs,
    maxInFlight: options.maxInFlight ?? DEFAULTS.maxInFlight,
    ...(options.onDelivery ? { onDelivery: options.onDelivery } : {}),
  });
  const asyncDelayMs = options.asyncPaymentDelayMs ?? DEFAULTS.asyncPaymentDelayMs;
  const failures: FailureRule[] = [];

  const cliDeliveries: Delivery[] = [];
  const listen = new ListenHub({
    secret: options.listenSecret ?? options.webhook?.secret ?? `whsec_${randomBytes(24).toString("hex")}`,
    apiVersion: state.apiVersion,
    onDelivery: (delivery) => {
      cliDeliveries.push(delivery);
      options.onDelivery?.({ ...delivery });
    },
  });

  /**
   * The endpoints that get an event of `type`. While a `stripe listen` session is connected and forwards to the
   * configured listener's server, that listener is left out (`standDown`): the CLI delivers instead, so nothing
   * reaches the shop twice.
   */
  const targetsFor = (type: string, standDown = true): WebhookTarget[] => {
    const targets: WebhookTarget[] = [];
    const listener = options.webhook;
    const listenerEvents = [...(listener?.events ?? ["*"])];
    const cliDelivers = standDown && listener !== undefined && listen.forwardsTo(listener.url);
    if (listener && !cliDelivers && eventEnabled(listenerEvents, type)) {
      targets.push({
        url: listener.url,
        secret: listener.secret,
        enabledEvents: listenerEvents,
        apiVersion: null,
      });
    }
    for (const { endpoint, secret } of state.webhookEndpoints.values()) {
      if (endpoint.status === "enabled" && eventEnabled(endpoint.enabled_events, type)) {
        targets.push({
          url: endpoint.url,
          secret,
          enabledEvents: endpoint.enabled_events,
          apiVersion: endpoint.api_version,
        });
      }
    }
    return targets;
  };

  state.onEvent((event) => {
    const targets = targetsFor(event.type);
    // `pending_webhooks` counts endpoints, as on Stripe; listen sessions are not endpoints.
    event.pending_webhooks = targets.length;
    listen.send(event);
    void deliverer.deliver(event, targets, () => {
      event.pending_webhooks = Math.max(0, event.pending_webhooks - 1);
    });
  });

  // Resolved while delayed payments may settle; replaced by a pending promise while a test holds them.
  let delayedGate: Promise<void> = Promise.resolve();
  const onDelayed = (sessionId: string, succeeds: boolean): void => {
    void tasks.run(async () => {
      if (!(await tasks.wait(asyncDelayMs))) return;
      await Promise.race([
        delayedGate,
        new Promise((resolve) => tasks.signal.addEventListener("abort", resolve, { once: true })),
      ]);
      if (!tasks.closed) settleDelayedPayment(state, sessionId, succeeds);
    });
  };

  const apiRequests: { method: string; path: string }[] = [];
  const emulator: Omit<StripeEmulator, "url" | "close"> = {
    // Both logs hold ISO timestamps; a stable sort keeps each one's order among equal times.
    deliveries: () =>
      [...deliverer.log(), ...cliDeliveries.map((delivery) => ({ ...delivery }))].sort((a, b) =>
        a.at.localeCompare(b.at),
      ),
    idle: () => tasks.idle(),
    failNext(pathPrefix, status, count = 1) {
      failures.push({ prefix: pathPrefix, status, remaining: count });
    },
    completeSession: (sessionId, input) => completeSession(state, sessionId, input, onDelayed),
    async resend(eventId, resendOptions = {}) {
      const event = state.event(eventId);
      // A drill redelivers through the emulator itself, even while a CLI is the usual path.
      const targets = targetsFor(event.type, false);
      const times = Math.max(1, Math.floor(resendOptions.times ?? 1));
      const before = deliverer.log().length;
      if (resendOptions.concurrent) {
        await Promise.all(Array.from({ length: times }, () => deliverer.deliver(event, targets)));
      } else {
        for (let index = 0; index < times; index += 1) await deliverer.deliver(event, targets);
      }
      return deliverer
        .log()
        .slice(before)
        .filter((delivery) => delivery.eventId === eventId);
    },
    events: () => [...state.events.values()].map((event) => structuredClone(event)),
    requests: () => apiRequests.map((request) => ({ ...request })),
    maxInFlight: deliverer.maxInFlight,
    deliveryQueue: () => deliverer.queue(),
    holdDelayedPayments() {
      let release = () => {};
      delayedGate = new Promise((resolve) => {
        release = resolve;
      });
      return release;
    },
  };

  const app = new Hono();
  // Injected failures come first, so they also hit requests that would fail auth or not exist.
  app.use("*", async (c, next) => {
    if (c.req.path.startsWith("/v1/")) apiRequests.push({ method: c.req.method, path: c.req.path });
    if (c.req.path.startsWith("/_emulator")) return next();
    const rule = failures.find(
      (candidate) => candidate.remaining > 0 && c.req.path.startsWith(candidate.prefix),
    );
    if (!rule) return next();
    rule.remaining -= 1;
    return errorResponse(c, injectedError(rule.status));
  });
  app.route("/", apiRoutes(state, { onDelayed, listen }));
  app.route("/", checkoutRoutes({ state, onDelayed }));
  app.route("/", devRoutes({ state, ...emulator }));

  const server = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: "127.0.0.1" });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  state.baseUrl = url;
  listen.attach(server as Server, url);

  return {
    ...emulator,
    url,
    async close() {
      await listen.close();
      await tasks.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections (the SDK's agent) would otherwise hold close() open.
        if ("closeAllConnections" in server) server.closeAllConnections();
      });
    },
  };
}
