/** The webhook over HTTP: Request -> verified event -> outcome -> Response, with one log line per delivery. */
import Stripe from "stripe";
import type { ConfigError } from "../config.ts";
import { failureReply } from "../lib/errors.ts";
import type { FulfilmentDeps } from "../fulfilment/fulfil.ts";
import { readBodyLimited } from "../lib/body.ts";
import type { LogFields, Logger } from "../lib/log.ts";
import { SESSION_ID } from "../order/session.ts";
import { type EventPayload, handleEvent } from "./route.ts";

/** What the handler is built from; the Netlify function assembles it once per cold start. */
export interface WebhookSetup {
  /** Signing secret of the Stripe endpoint (whsec_...), or undefined when configuration lacks it. */
  webhookSecret: string | undefined;
  /** The services, or the configuration error that prevented building them. */
  deps: FulfilmentDeps | ConfigError;
  log: Logger;
  /** Milliseconds since the epoch, for the signature's timestamp; Date.now unless a test pins it. */
  now?: () => number;
  /** Sends what waits in the mail queue (src/fulfilment/mail.ts); run after every event the shop acted on. */
  drain?: () => Promise<unknown>;
}

/** What the platform offers a request (Netlify's Context): work that may go on after the response. */
export interface RequestContext {
  waitUntil?: (promise: Promise<unknown>) => void;
}

/**
 * How far a signature's timestamp may be from our clock, either way. Seconds; Stripe's default tolerance. Stripe's
 * library refuses only timestamps older than this: one far in the future would pass, and stay replayable for as long.
 */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** Stripe events are a few KiB; 1 MiB leaves room for the largest sessions. Bytes. */
const MAX_EVENT_BYTES = 1024 * 1024;

type Reply = { status: number; outcome: string; reason: string };

/**
 * Builds the request handler. After an event the shop acted on, the mail queue is drained: after the response when
 * the platform can (`context.waitUntil`), so Stripe's delivery is answered at once; otherwise before it.
 */
export function createWebhookHandler(
  setup: WebhookSetup,
): (req: Request, context?: RequestContext) => Promise<Response> {
  return async (req, context) => {
    const started = performance.now();
    const fields: LogFields = {};
    let reply: Reply;
    try {
      reply = await respond(req, setup, fields);
    } catch (error) {
      // Failures become statuses here, in one place; whatever escapes is still answered as JSON, never a stack trace.
      reply = failureReply(error);
      if (reply.reason === "internal_error")
        fields.error = error instanceof Error ? error.name : typeof error;
    }
    setup.log("webhook.delivery", {
      ...fields,
      outcome: reply.outcome,
      reason: reply.reason,
      status: reply.status,
      durationMs: Math.round(performance.now() - started),
    });
    if (setup.drain && reply.status === 200 && reply.outcome !== "ignored" && reply.outcome !== "rejected") {
      const draining = drainSafely(setup);
      if (context?.waitUntil) context.waitUntil(draining);
      else await draining;
    }
    const body = reply.status < 300 ? { received: true, outcome: reply.outcome } : { error: reply.reason };
    return Response.json(body, {
      status: reply.status,
      headers: reply.status === 405 ? { allow: "POST" } : undefined,
    });
  };
}

async function respond(req: Request, setup: WebhookSetup, fields: LogFields): Promise<Reply> {
  if (req.method !== "POST") return rejected(405, "method_not_allowed");
  const body = await readBodyLimited(req, MAX_EVENT_BYTES);
  if (!body) return rejected(413, "body_too_large");
  if (body.byteLength === 0) return rejected(400, "empty_body");

  // Nothing is parsed, stored or sent before the signature holds.
  if (!setup.webhookSecret) return misconfigured(setup);
  const signature = req.headers.get("stripe-signature");
  if (!signature) return rejected(400, "missing_signature");
  const nowMs = (setup.now ?? Date.now)();
  // Both sides of the clock (Stripe's library checks only the past), first: outside the window nothing is verified,
  // parsed or stored. A missing or non-numeric `t=` is a bad signature, as Stripe's library would say.
  const signedAt = signatureTimestamp(signature);
  if (signedAt === undefined) return rejected(400, "invalid_signature");
  if (Math.abs(Math.floor(nowMs / 1000) - signedAt) > SIGNATURE_TOLERANCE_SECONDS)
    return rejected(400, "timestamp_out_of_tolerance");
  let event: EventPayload;
  try {
    // Verify the exact bytes Stripe signed, at the same clock (its own check of the past side agrees with ours).
    event = (await Stripe.webhooks.constructEventAsync(
      Buffer.from(body),
      signature,
      setup.webhookSecret,
      SIGNATURE_TOLERANCE_SECONDS,
      undefined,
      nowMs,
    )) as unknown as EventPayload;
  } catch (error) {
    return rejected(400, error instanceof SyntaxError ? "invalid_json" : "invalid_signature");
  }
  if (
    typeof event !== "object" ||
    event === null ||
    typeof event.id !== "string" ||
    typeof event.type !== "string" ||
    typeof event.data !== "object" ||
    event.data === null ||
    !("object" in event.data)
  ) {
    return rejected(400, "not_an_event");
  }
  fields.eventId = event.id.slice(0, 100);
  fields.type = event.type.slice(0, 100);
  const objectId = event.data.object?.id;
  // Only a well-formed id reaches the log; anything else is logged by its hash in the ledger's failure line.
  if (typeof objectId === "string" && SESSION_ID.test(objectId)) fields.sessionId = objectId;

  if (!isDeps(setup.deps)) return misconfigured(setup);
  // Permanent problems come back as values (outcome "failed", recorded and alerted): acknowledged with 200. What a
  // retry can fix is thrown, and answered non-2xx by the caller above.
  const { outcome, reason } = await handleEvent(event, setup.deps);
  return { status: 200, outcome, reason };
}

/**
 * The `t=` of a Stripe-Signature header (`t=1700000000,v1=…,v0=…`) in Unix seconds, or undefined unless it is plain
 * digits. Split as Stripe's library splits it (its last `t` item is the one signed), so both read the same value.
 */
export function signatureTimestamp(header: string): number | undefined {
  const value = header
    .split(",")
    .map((item) => item.split("="))
    .filter(([key]) => key === "t")
    .at(-1)?.[1];
  return value !== undefined && /^\d{1,12}$/.test(value) ? Number(value) : undefined;
}

/** The drain after a delivery; its failure is logged (the next delivery or the scheduled drain carries on). */
async function drainSafely(setup: WebhookSetup): Promise<void> {
  try {
    await setup.drain?.();
  } catch (error) {
    setup.log("mail.drain_failed", {
      level: "error",
      reason: error instanceof Error && "reason" in error ? String(error.reason) : "internal_error",
    });
  }
}

function rejected(status: number, reason: string): Reply {
  return { status, outcome: "rejected", reason };
}

function misconfigured(setup: WebhookSetup): Reply {
  // The message names variables, never values; it goes to the log only, never to the caller.
  const message = isDeps(setup.deps) ? "Missing STRIPE_WEBHOOK_SECRET" : setup.deps.message;
  setup.log("config.invalid", { message });
  return { status: 500, outcome: "failed", reason: "misconfigured" };
}

function isDeps(deps: FulfilmentDeps | ConfigError): deps is FulfilmentDeps {
  return !(deps instanceof Error);
}
