/**
 * GET /api/order-status?session_id=cs_...: what the thank-you page needs to show, and nothing more.
 * A customer can land here before the webhook arrives, so a paid but unfulfilled order is fulfilled here, under the
 * same claims as the webhook: still exactly one email.
 */
import type { ConfigError } from "../config.ts";
import { InProgressError, StoreUnavailableError, UpstreamError } from "../errors.ts";
import { type FulfilmentDeps, fulfilOrder } from "../fulfillment/fulfill.ts";
import { type SessionPayload, toOrder } from "../fulfillment/order.ts";
import type { SessionSource } from "../fulfillment/ports.ts";
import { formatMoney } from "../lib/money.ts";
import type { Logger } from "../log.ts";

/** Fulfilment deps plus a way to look sessions up. */
export interface OrderStatusDeps extends FulfilmentDeps {
  sessions: SessionSource;
}

/** `paid`: paid and confirmed; `processing`: not settled yet, ask again shortly; `unpaid`: a delayed payment pending. */
export type OrderStatus = "paid" | "processing" | "unpaid";

/** The public answer. Amounts in minor units; the email is masked. */
export interface OrderStatusBody {
  status: OrderStatus;
  items: { name: string; quantity: number }[];
  total: { amount: number; currency: string; formatted: string };
  email: string | null;
}

// Stripe's Checkout Session ids: `cs_test_` or `cs_live_` and a base62 tail (currently ~60 characters).
const SESSION_ID = /^cs_(test|live)_[A-Za-z0-9]{8,250}$/;

/** Builds the request handler. */
export function createOrderStatusHandler(setup: {
  deps: OrderStatusDeps | ConfigError;
  log: Logger;
}): (req: Request) => Promise<Response> {
  return async (req) => {
    const started = performance.now();
    const { status, body, sessionId, note } = await respond(req, setup);
    setup.log("order_status", {
      sessionId,
      status,
      answer: "status" in body ? String(body.status) : String(body.error),
      note,
      durationMs: Math.round(performance.now() - started),
    });
    return Response.json(body, {
      status,
      // Order details are personal: never cached by the browser or a CDN.
      headers: { "cache-control": "no-store", ...(status === 405 && { allow: "GET" }) },
    });
  };
}

type Reply = {
  status: number;
  body: OrderStatusBody | { status: "not_found" } | { error: string };
  sessionId?: string;
  note?: string;
};

async function respond(
  req: Request,
  setup: { deps: OrderStatusDeps | ConfigError; log: Logger },
): Promise<Reply> {
  if (req.method !== "GET") return { status: 405, body: { error: "method_not_allowed" } };
  const sessionId = new URL(req.url).searchParams.get("session_id") ?? "";
  if (!SESSION_ID.test(sessionId)) return { status: 400, body: { error: "invalid_session_id" } };
  const deps = setup.deps;
  if (deps instanceof Error) {
    setup.log("config.invalid", { message: deps.message });
    return { status: 500, body: { error: "misconfigured" }, sessionId };
  }
  try {
    const session = await deps.sessions.retrieve(sessionId);
    if (!session || session.status === "expired")
      return { status: 404, body: { status: "not_found" }, sessionId };
    const items = await deps.lineItems.listLineItems(sessionId);
    let status = statusOf(session);
    let note: string | undefined;
    if (status === "paid") {
      try {
        const result = await fulfilOrder(session, deps, items);
        note = result.status === "duplicate" ? "already_fulfilled" : "fulfilled_here";
      } catch (error) {
        // Another attempt holds the order, or a dependency failed: the webhook's retry finishes the job, and
        // the page asks again.
        if (!(
          error instanceof InProgressError ||
          error instanceof StoreUnavailableError ||
          error instanceof UpstreamError
        )) {
          throw error;
        }
        status = "processing";
        note = error.reason;
      }
    }
    const order = toOrder(session, items);
    return {
      status: 200,
      sessionId,
      note,
      body: {
        status,
        items: order.items.map(({ name, quantity }) => ({ name, quantity })),
        total: {
          amount: order.total,
          currency: order.currency,
          formatted: formatMoney(order.total, order.currency),
        },
        email: maskEmail(order.customerEmail),
      },
    };
  } catch (error) {
    if (error instanceof UpstreamError)
      return { status: 502, body: { error: "stripe_unavailable" }, sessionId };
    throw error;
  }
}

function statusOf(session: SessionPayload): OrderStatus {
  if (session.status === "complete") {
    return session.payment_status === "paid" || session.payment_status === "no_payment_required"
      ? "paid"
      : "unpaid";
  }
  return "processing";
}

/** `jenny@example.com` -> `j***@example.com`: enough for the customer to recognise, useless to anyone else. */
export function maskEmail(email: string | undefined): string | null {
  if (!email) return null;
  const at = email.lastIndexOf("@");
  if (at < 1) return null;
  return `${email[0]}***${email.slice(at)}`;
}
