/** Decides what a verified Stripe event means for the shop, and runs it. */
import {
  type ActionResult,
  type FulfilmentDeps,
  fulfilOrder,
  notifyPaymentFailed,
  recordAwaitingPayment,
  recordFailure,
} from "../fulfilment/fulfil.ts";
import { IDEMPOTENCY_WINDOW_MS } from "../fulfilment/mail.ts";
import { sha256 } from "../lib/hash.ts";
import { inScope, type SessionScope } from "../order/session.ts";
import { HANDLED_EVENTS } from "../order/events.ts";
import type { SessionPayload } from "../order/model.ts";
import {
  type ChargeRefund,
  type DisputeChange,
  type Mapped,
  toChargeRefund,
  toDisputeChange,
} from "../order/payments.ts";
import { recordDispute, recordRefund } from "../fulfilment/refunds.ts";

/** The part of a Stripe Event we read; payloads from every API version have it. `object` is still input. */
export interface EventPayload {
  id: string;
  type: string;
  /** Unix seconds when Stripe created the event (its payload is a snapshot from then). */
  created?: unknown;
  data: { object: ({ object?: string; id?: string } & Record<string, unknown>) | null };
}

/** What to do with an event. */
export type Action =
  | { kind: "fulfil"; session: SessionPayload }
  | { kind: "await_payment"; session: SessionPayload }
  | { kind: "notify_payment_failed"; session: SessionPayload }
  | { kind: "refund"; refund: ChargeRefund }
  | { kind: "dispute"; dispute: DisputeChange }
  | { kind: "unusable"; reason: string }
  | { kind: "ignore"; reason: string };

const handled = new Set<string>(HANDLED_EVENTS);

/** Pure routing. A verified event is never rejected: what we do not act on is acknowledged as ignored. */
export function chooseAction(event: EventPayload, scope: SessionScope): Action {
  if (!handled.has(event.type)) return { kind: "ignore", reason: "unhandled_event_type" };
  const object = event.data.object;
  if (event.type === "charge.refunded") return paymentAction(object, "charge", toChargeRefund, "refund");
  if (event.type === "charge.dispute.created" || event.type === "charge.dispute.closed") {
    const closed = event.type === "charge.dispute.closed";
    return paymentAction(object, "dispute", (value) => toDisputeChange(value, closed), "dispute");
  }
  if (object === null || typeof object !== "object" || Array.isArray(object))
    return { kind: "unusable", reason: "missing_session" };
  if (object.object !== "checkout.session") return { kind: "unusable", reason: "not_a_session" };
  const session = object as unknown as SessionPayload;
  if (session.mode === "setup") return { kind: "ignore", reason: "setup_mode" };
  // Another integration's session on the same account: not ours to email about.
  if (!inScope(session, scope)) return { kind: "ignore", reason: "not_this_shop" };
  switch (event.type) {
    case "checkout.session.completed":
      if (session.payment_status === "paid" || session.payment_status === "no_payment_required") {
        return { kind: "fulfil", session };
      }
      // A delayed payment method (bank debit, voucher): async_payment_succeeded or _failed follows.
      if (session.payment_status === "unpaid") return { kind: "await_payment", session };
      return { kind: "ignore", reason: "unknown_payment_status" };
    case "checkout.session.async_payment_succeeded":
      return { kind: "fulfil", session };
    default:
      return { kind: "notify_payment_failed", session };
  }
}

/**
 * A refund or dispute event's action. Which order it concerns is decided when it runs (the ledger's PaymentIntent
 * index, else one Stripe lookup), so another integration's payment is ignored there.
 */
function paymentAction<T>(
  object: unknown,
  expected: "charge" | "dispute",
  map: (object: unknown) => Mapped<T>,
  kind: "refund" | "dispute",
): Action {
  if (object === null || typeof object !== "object" || (object as { object?: unknown }).object !== expected)
    return { kind: "unusable", reason: `not_a_${expected}` };
  const mapped = map(object);
  if ("ignore" in mapped) return { kind: "ignore", reason: mapped.ignore };
  if ("problem" in mapped) return { kind: "unusable", reason: mapped.problem };
  return kind === "refund"
    ? { kind, refund: mapped.value as ChargeRefund }
    : { kind, dispute: mapped.value as DisputeChange };
}

/**
 * Runs the event's action. The ledger makes a redelivery, or the same order in another event, send nothing.
 * Throws InProgressError, StoreUnavailableError or UpstreamError for what Stripe's retry can fix.
 */
export async function handleEvent(event: EventPayload, deps: FulfilmentDeps): Promise<ActionResult> {
  const action = chooseAction(event, deps.scope);
  switch (action.kind) {
    case "ignore":
      return { outcome: "ignored", reason: action.reason };
    case "unusable":
      // No session id to name the record by: the event's id (hashed) does, and the merchant is told.
      return recordFailure(deps, sha256(`event:${event.id}`), null, action.reason, "webhook");
    case "await_payment":
      return recordAwaitingPayment(action.session, deps);
    case "fulfil":
      return fulfilOrder(action.session, deps, { by: "webhook", fresh: recent(event, deps.now()) });
    case "notify_payment_failed":
      return notifyPaymentFailed(action.session, deps, "webhook");
    case "refund":
      return recordRefund(action.refund, deps);
    case "dispute":
      return recordDispute(action.dispute, deps);
  }
}

/**
 * Whether the event is young enough to trust its snapshot of the session: the ledger records every send of its order,
 * so only an older event needs Stripe's current copy of the session (one more read) before a first send. A ledger
 * lost within that time is not caught here (README, "Exactly once, at any age").
 */
function recent(event: EventPayload, nowMs: number): boolean {
  return typeof event.created === "number" && nowMs - event.created * 1000 < IDEMPOTENCY_WINDOW_MS;
}
