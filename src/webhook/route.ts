/** Decides what a verified Stripe event means for the shop, and runs it once per event. */
import {
  type ActionResult,
  type FulfilmentDeps,
  fulfilOrder,
  keys,
  notifyPaymentFailed,
} from "../fulfillment/fulfill.ts";
import { once } from "../fulfillment/once.ts";
import type { SessionPayload } from "../fulfillment/order.ts";

/** The part of a Stripe Event we read; payloads from every API version have it. */
export interface EventPayload {
  id: string;
  type: string;
  data: { object: { object?: string; id?: string } & Record<string, unknown> };
}

/** What to do with an event. */
export type Action =
  | { kind: "fulfil"; session: SessionPayload }
  | { kind: "notify_payment_failed"; session: SessionPayload }
  | { kind: "ignore"; reason: string };

/** Normal endings of a delivery; failures are thrown as the errors in src/errors.ts. */
export interface Outcome {
  outcome: "fulfilled" | "duplicate" | "ignored";
  reason: string;
}

/** The event types the webhook acts on; the Stripe endpoint should send exactly these. */
export const HANDLED_EVENTS = [
  "checkout.session.completed",
  "checkout.session.async_payment_succeeded",
  "checkout.session.async_payment_failed",
] as const;

/** Pure routing. A verified event is never rejected: what we do not act on is acknowledged as ignored. */
export function chooseAction(event: EventPayload): Action {
  const object = event.data.object;
  if (object.object !== "checkout.session" || typeof object.id !== "string") {
    return { kind: "ignore", reason: "unhandled_event_type" };
  }
  const session = object as unknown as SessionPayload;
  switch (event.type) {
    case "checkout.session.completed":
      if (session.mode === "setup") return { kind: "ignore", reason: "setup_mode" };
      if (session.payment_status === "paid" || session.payment_status === "no_payment_required") {
        return { kind: "fulfil", session };
      }
      // A delayed payment method (bank debit, voucher): async_payment_succeeded or _failed follows.
      if (session.payment_status === "unpaid") return { kind: "ignore", reason: "awaiting_payment" };
      return { kind: "ignore", reason: "unknown_payment_status" };
    case "checkout.session.async_payment_succeeded":
      return { kind: "fulfil", session };
    case "checkout.session.async_payment_failed":
      return { kind: "notify_payment_failed", session };
    default:
      return { kind: "ignore", reason: "unhandled_event_type" };
  }
}

/**
 * Runs the event's action under two guards: the event id (a redelivery does nothing) and the session
 * (the same order arriving in another event does nothing). Throws InProgressError, StoreUnavailableError or
 * UpstreamError; every claim taken is released first, so Stripe's retry redoes the work.
 */
export async function handleEvent(event: EventPayload, deps: FulfilmentDeps): Promise<Outcome> {
  const action = chooseAction(event);
  if (action.kind === "ignore") return { outcome: "ignored", reason: action.reason };
  const run = (): Promise<ActionResult> =>
    action.kind === "fulfil" ? fulfilOrder(action.session, deps) : notifyPaymentFailed(action.session, deps);
  const result = await once(deps.store, keys.event(event.id), run, deps.log);
  if (result.status === "duplicate") return { outcome: "duplicate", reason: "event_already_processed" };
  if (result.value.status === "duplicate")
    return { outcome: "duplicate", reason: "session_already_processed" };
  return { outcome: "fulfilled", reason: result.value.value.reason };
}
