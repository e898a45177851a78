// PaymentIntents and Charges behind a paid Checkout Session (or an API-confirmed PaymentIntent), and the
// payment_intent.* / charge.* events they cause.
import {
  type Address,
  type BillingDetails,
  type ChargeObject,
  emptyAddress,
  type Json,
  newId,
  type PaymentIntentObject,
  type PaymentSource,
  unixNow,
} from "./objects.ts";
import { openDispute } from "./disputes.ts";
import { invalidParam, invalidState, resourceMissing, StripeError } from "./errors.ts";
import { type EmulatorState, NO_REQUEST, type RequestInfo } from "./state.ts";

// What a Charge shows about the method that paid it; the hosted page's card is Stripe's 4242 test Visa.
function methodDetails(source: PaymentSource): Json {
  const { method } = source;
  if (source.type === "card") {
    const card = method?.card;
    return {
      type: "card",
      card: {
        brand: card?.brand ?? "visa",
        country: card?.country ?? "US",
        exp_month: card?.exp_month ?? 12,
        exp_year: card?.exp_year ?? new Date().getUTCFullYear() + 5,
        funding: "credit",
        last4: card?.last4 ?? "4242",
        network: card?.brand ?? "visa",
      },
    };
  }
  if (source.type === "sepa_debit") {
    const sepa = method?.sepa_debit;
    return {
      type: "sepa_debit",
      sepa_debit: {
        bank_code: sepa?.bank_code ?? null,
        branch_code: sepa?.branch_code ?? null,
        country: sepa?.country ?? null,
        last4: sepa?.last4 ?? null,
        mandate: null,
      },
    };
  }
  return {
    type: source.type,
    [source.type]: { account_holder_type: "individual", bank_name: "STRIPE TEST BANK", last4: "6789" },
  };
}

/**
 * The PaymentIntent a paid session creates: `payment_intent.created`, then for a card the Charge at once
 * (`charge.succeeded`, `payment_intent.succeeded`), for a delayed method `payment_intent.processing` until
 * `settlePayment`. Returns the PaymentIntent's id for the session's `payment_intent`.
 */
export function startPayment(
  state: EmulatorState,
  amount: number,
  currency: string,
  source: PaymentSource,
  delayed: boolean,
): string {
  const intent = newPaymentIntent(amount, currency, [source.type]);
  const { id } = intent;
  state.paymentIntents.set(id, intent);
  state.paymentSources.set(id, source);
  state.emit("payment_intent.created", intent, NO_REQUEST);
  intent.payment_method = source.method?.id ?? newId("pm");
  if (delayed) {
    intent.status = "processing";
    intent.processing = { type: source.type };
    state.emit("payment_intent.processing", intent, NO_REQUEST);
  } else {
    settlePayment(state, id, true);
  }
  return id;
}

/** A PaymentIntent for `amount` minor units that nothing has paid yet (`requires_payment_method`). */
export function newPaymentIntent(amount: number, currency: string, types: string[]): PaymentIntentObject {
  const id = newId("pi");
  return {
    id,
    object: "payment_intent",
    amount,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: "automatic",
    client_secret: `${id}_secret_${newId("s").slice(2)}`,
    confirmation_method: "automatic",
    created: unixNow(),
    currency,
    customer: null,
    customer_account: null,
    description: null,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    managed_payments: { enabled: false },
    metadata: {},
    next_action: null,
    on_behalf_of: null,
    payment_method: null,
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: types,
    processing: null,
    receipt_email: null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: "requires_payment_method",
    transfer_data: null,
    transfer_group: null,
  };
}

/**
 * The payment's result: a Charge (`charge.succeeded` or `charge.failed`), then the PaymentIntent's
 * `payment_intent.succeeded` or `payment_intent.payment_failed` (which puts it back to `requires_payment_method`).
 * A charge paid with one of Stripe's dispute test cards is disputed right after (`charge.dispute.created`).
 * `request` is the API call that confirmed it, if one did.
 */
export function settlePayment(
  state: EmulatorState,
  id: string,
  succeeds: boolean,
  request: RequestInfo = NO_REQUEST,
): void {
  const intent = state.paymentIntent(id);
  const source = state.paymentSources.get(id);
  if (!source) return;
  const chargeId = newId("ch");
  const charge: ChargeObject = {
    id: chargeId,
    object: "charge",
    amount: intent.amount,
    amount_captured: succeeds ? intent.amount : 0,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: succeeds ? newId("txn") : null,
    billing_details: structuredClone(source.billing),
    calculated_statement_descriptor: "LINKSHOP",
    captured: succeeds,
    created: unixNow(),
    currency: intent.currency,
    customer: null,
    description: intent.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: succeeds ? null : "insufficient_funds",
    failure_message: succeeds ? null : "The customer's account has insufficient funds to cover this payment.",
    fraud_details: {},
    livemode: false,
    metadata: {},
    on_behalf_of: null,
    outcome: {
      network_status: succeeds ? "approved_by_network" : "declined_by_network",
      reason: succeeds ? null : "insufficient_funds",
      risk_level: "normal",
      seller_message: succeeds ? "Payment complete." : "The bank returned the payment.",
      type: succeeds ? "authorized" : "issuer_declined",
    },
    paid: succeeds,
    payment_intent: id,
    payment_method: intent.payment_method ?? "",
    payment_method_details: methodDetails(source),
    receipt_email: intent.receipt_email,
    receipt_number: null,
    receipt_url: null,
    refunded: false,
    refunds: { object: "list", data: [], has_more: false, url: `/v1/charges/${chargeId}/refunds` },
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: succeeds ? "succeeded" : "failed",
    transfer_data: null,
    transfer_group: null,
  };
  state.charges.set(chargeId, charge);
  state.paymentSources.delete(id);
  intent.latest_charge = chargeId;
  intent.processing = null;
  if (succeeds) {
    intent.status = "succeeded";
    intent.amount_received = intent.amount;
    state.emit("charge.succeeded", charge, request);
    state.emit("payment_intent.succeeded", intent, request);
    const dispute = state.disputingMethods.get(charge.payment_method);
    // Stripe's dispute test cards: the cardholder disputes as soon as the money has moved.
    if (dispute) openDispute(state, charge, { inquiry: dispute === "inquiry" });
  } else {
    intent.status = "requires_payment_method";
    intent.last_payment_error = {
      charge: chargeId,
      code: "insufficient_funds",
      message: charge.failure_message,
      type: "card_error",
    };
    intent.payment_method = null;
    state.emit("charge.failed", charge, request);
    state.emit("payment_intent.payment_failed", intent, request);
  }
}

/**
 * The succeeded Charge a refund or a dispute is about, named by `charge` or by `payment_intent` (its latest charge),
 * or both when they agree; Stripe's errors otherwise. `purpose` completes "does not have a successful charge to …".
 */
export function succeededCharge(
  state: EmulatorState,
  ids: { charge?: string | undefined; payment_intent?: string | undefined },
  purpose: string,
): ChargeObject {
  const { charge: chargeId, payment_intent: intentId } = ids;
  if (chargeId === undefined && intentId === undefined) {
    throw new StripeError(
      400,
      "One of the following params should be provided for this request: payment_intent or charge.",
      { param: "payment_intent", code: "parameter_missing" },
    );
  }
  if (chargeId !== undefined) {
    const charge = state.charge(chargeId, "charge", 400);
    if (intentId !== undefined && charge.payment_intent !== intentId) {
      throw invalidParam(
        "payment_intent",
        `The charge ${chargeId} was not made by the PaymentIntent ${intentId}.`,
      );
    }
    if (charge.status !== "succeeded") {
      throw invalidState(`Charge ${chargeId} has not succeeded, so it has nothing to ${purpose}.`, "charge");
    }
    return charge;
  }
  const intent = state.paymentIntents.get(intentId as string);
  if (!intent) throw resourceMissing("payment_intent", intentId as string, "payment_intent", 400);
  const latest = intent.latest_charge === null ? undefined : state.charges.get(intent.latest_charge);
  if (intent.status !== "succeeded" || latest?.status !== "succeeded") {
    throw invalidState(
      `This PaymentIntent (${intent.id}) does not have a successful charge to ${purpose}.`,
      "payment_intent",
    );
  }
  return latest;
}

/** A blank billing block, for callers that know only some of it. */
export function billingDetails(fields: {
  address?: Address | null;
  email?: string | null;
  name?: string | null;
  phone?: string | null;
}): BillingDetails {
  return {
    address: fields.address ? { ...fields.address } : emptyAddress(),
    email: fields.email ?? null,
    name: fields.name ?? null,
    phone: fields.phone ?? null,
    tax_id: null,
  };
}
