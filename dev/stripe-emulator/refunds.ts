// Refunds: create (by PaymentIntent or Charge, full or partial), retrieve, update, list, with the events Stripe sends.
import { formatMoney } from "../../src/lib/money.ts";
import { invalidParam, StripeError } from "./errors.ts";
import { LIST_PARAMS, listOfPayments, paginate } from "./lists.ts";
import {
  type ChargeObject,
  type Json,
  type ListObject,
  newId,
  type RefundObject,
  unixNow,
} from "./objects.ts";
import { mergeMetadata, type Params } from "./params.ts";
import { succeededCharge } from "./payments.ts";
import type { EmulatorState, RequestInfo } from "./state.ts";

const REASONS = ["duplicate", "fraudulent", "requested_by_customer"] as const;

/** Where the money goes back to, as a Refund shows it: the card (a refund on the card network) or the bank account. */
function destination(charge: ChargeObject): Json {
  const type = (charge.payment_method_details as { type?: string } | null)?.type ?? "card";
  if (type === "card") {
    return {
      card: {
        reference: null,
        reference_status: "pending",
        reference_type: "acquirer_reference_number",
        type: "refund",
      },
      type,
    };
  }
  return { [type]: {}, type };
}

/** POST /v1/refunds/:id: metadata only (`refund.updated` and `charge.refund.updated` when it changes). */
export function updateRefund(
  state: EmulatorState,
  id: string,
  params: Params,
  request: RequestInfo,
): RefundObject {
  params.allowOnly(["metadata", "expand"]);
  const refund = state.refund(id);
  const before = refund.metadata;
  refund.metadata = mergeMetadata(refund.metadata, params.metadata());
  if (JSON.stringify(before) !== JSON.stringify(refund.metadata)) {
    state.emit("refund.updated", refund, request, { metadata: before });
    state.emit("charge.refund.updated", refund, request, { metadata: before });
  }
  return refund;
}

/**
 * POST /v1/refunds: refunds `amount` minor units (default: what is left) of the charge named by `charge` or
 * `payment_intent`. Refused like on Stripe for an unknown id, a payment that has not succeeded, a charge with a
 * chargeback, and more than is left. The charge's `amount_refunded`, `refunded` and `refunds` follow; the events are
 * `refund.created`, then `charge.refunded` (the Charge, with `previous_attributes`), as for partial refunds on Stripe.
 */
export function createRefund(state: EmulatorState, params: Params, request: RequestInfo): RefundObject {
  params.allowOnly([
    "amount",
    "charge",
    "payment_intent",
    "reason",
    "metadata",
    "instructions_email",
    "refund_application_fee",
    "reverse_transfer",
    "expand",
  ]);
  const charge = succeededCharge(
    state,
    { charge: params.string("charge"), payment_intent: params.string("payment_intent") },
    "refund",
  );
  // A chargeback has taken the money back already, unless the merchant won it back; an inquiry has not.
  const dispute = [...state.disputes.values()].find((one) => one.charge === charge.id);
  if (dispute && !dispute.is_charge_refundable && dispute.status !== "won") {
    throw new StripeError(400, `Charge ${charge.id} has been charged back; cannot issue a refund.`, {
      code: "charge_disputed",
    });
  }
  const left = charge.amount_captured - charge.amount_refunded;
  if (left === 0) {
    throw new StripeError(400, `Charge ${charge.id} has already been refunded.`, {
      code: "charge_already_refunded",
    });
  }
  const amount = params.integer("amount") ?? left;
  if (amount < 1) throw invalidParam("amount", "Invalid positive integer", "parameter_invalid_integer");
  if (amount > left) {
    throw new StripeError(
      400,
      `Refund amount (${formatMoney(amount, charge.currency)}) is greater than unrefunded amount on charge (${formatMoney(left, charge.currency)})`,
      { param: "amount", code: "amount_too_large" },
    );
  }
  const reason = params.string("reason");
  if (reason !== undefined && !(REASONS as readonly string[]).includes(reason)) {
    throw invalidParam("reason", `Invalid reason: must be one of ${REASONS.join(", ")}.`);
  }
  const refund: RefundObject = {
    id: newId("re"),
    object: "refund",
    amount,
    balance_transaction: newId("txn"),
    charge: charge.id,
    created: unixNow(),
    currency: charge.currency,
    customer: null,
    customer_account: null,
    destination_details: destination(charge),
    metadata: mergeMetadata({}, params.metadata()),
    payment_intent: charge.payment_intent,
    payment_method: charge.payment_method,
    reason: (reason as RefundObject["reason"] | undefined) ?? null,
    receipt_number: null,
    source_transfer_reversal: null,
    status: "succeeded",
    transfer_reversal: null,
  };
  const before = {
    amount_refunded: charge.amount_refunded,
    refunds: { data: structuredClone(charge.refunds.data) },
  };
  const wasRefunded = charge.refunded;
  state.refunds.set(refund.id, refund);
  charge.amount_refunded += amount;
  // The same object as in `state.refunds`, so an update shows in the charge's list too.
  charge.refunds.data.unshift(refund);
  charge.refunded = charge.amount_refunded === charge.amount_captured;
  state.emit("refund.created", refund, request);
  // Only what changed is a previous attribute: after a partial refund, `refunded` is still false.
  const previous = charge.refunded === wasRefunded ? before : { ...before, refunded: wasRefunded };
  state.emit("charge.refunded", charge, request, previous);
  return refund;
}

/** GET /v1/refunds, newest first; `charge` and `payment_intent` filter. */
export function listRefunds(state: EmulatorState, params: Params): ListObject<RefundObject> {
  return listOfPayments(state.refunds.values(), params, "/v1/refunds", "refund");
}

/** GET /v1/charges/:id/refunds, newest first. */
export function chargeRefunds(state: EmulatorState, id: string, params: Params): ListObject<RefundObject> {
  params.allowOnly([...LIST_PARAMS]);
  return paginate(state.charge(id).refunds.data, params, `/v1/charges/${id}/refunds`, "refund");
}
