// PaymentIntents made through the API, as the Stripe CLI's charge.* recipes make them: create (and confirm) with a
// card PaymentMethod such as pm_card_visa, confirm, list. Charges are listed here too.
import { invalidParam, invalidState } from "./errors.ts";
import { createdFilter, LIST_PARAMS, newestMatching, paginate } from "./lists.ts";
import type { ChargeObject, ListObject, PaymentIntentObject } from "./objects.ts";
import { mergeMetadata, type Params } from "./params.ts";
import { paymentMethodParam } from "./payment-pages.ts";
import { billingDetails, newPaymentIntent, settlePayment } from "./payments.ts";
import type { EmulatorState, RequestInfo } from "./state.ts";

/** What confirming takes, at creation (with `confirm=true`) and on /confirm. */
const CONFIRM_PARAMS = ["payment_method", "return_url", "off_session", "expand"] as const;

/**
 * POST /v1/payment_intents: card payments with automatic capture. With `confirm=true` it is paid at once (see
 * `confirmPaymentIntent`); otherwise it waits in `requires_payment_method` or `requires_confirmation`.
 */
export function createPaymentIntent(
  state: EmulatorState,
  params: Params,
  request: RequestInfo,
): PaymentIntentObject {
  params.allowOnly([
    ...CONFIRM_PARAMS,
    "amount",
    "currency",
    "confirm",
    "payment_method_types",
    "automatic_payment_methods",
    "capture_method",
    "description",
    "metadata",
    "receipt_email",
    "statement_descriptor",
    "statement_descriptor_suffix",
  ]);
  const amount = params.integer("amount");
  if (amount === undefined)
    throw invalidParam("amount", "Missing required param: amount.", "parameter_missing");
  if (amount < 1) {
    throw invalidParam("amount", "This value must be greater than or equal to 1.", "amount_too_small");
  }
  const currency = params.requiredString("currency").toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) throw invalidParam("currency", `Invalid currency: ${currency}`);
  const capture = params.string("capture_method");
  if (capture !== undefined && capture !== "automatic" && capture !== "automatic_async") {
    throw invalidParam("capture_method", "The emulator captures automatically only.");
  }
  const types = params.stringList("payment_method_types") ?? ["card"];
  if (types.length === 0 || types.some((type) => type !== "card")) {
    throw invalidParam("payment_method_types", "The emulator's PaymentIntents take cards only.");
  }
  const intent = newPaymentIntent(amount, currency, types);
  for (const key of [
    "description",
    "receipt_email",
    "statement_descriptor",
    "statement_descriptor_suffix",
  ] as const) {
    intent[key] = params.nullableString(key) ?? null;
  }
  intent.metadata = mergeMetadata({}, params.metadata());
  const automatic = params.map("automatic_payment_methods");
  if (automatic) {
    automatic.allowOnly(["enabled", "allow_redirects"]);
    intent.automatic_payment_methods = { enabled: automatic.boolean("enabled") ?? false };
  }
  const methodId = params.string("payment_method");
  if (methodId) {
    intent.payment_method = paymentMethodParam(state, methodId, "payment_method").id;
    intent.status = "requires_confirmation";
  }
  state.paymentIntents.set(intent.id, intent);
  state.emit("payment_intent.created", intent, request);
  if (params.boolean("confirm") === true) confirm(state, intent, intent.payment_method, request);
  return intent;
}

/** POST /v1/payment_intents/:id/confirm, optionally naming the PaymentMethod to pay with. */
export function confirmPaymentIntent(
  state: EmulatorState,
  id: string,
  params: Params,
  request: RequestInfo,
): PaymentIntentObject {
  params.allowOnly(CONFIRM_PARAMS);
  const intent = state.paymentIntent(id);
  const methodId = params.string("payment_method");
  const method = methodId ? paymentMethodParam(state, methodId, "payment_method").id : intent.payment_method;
  confirm(state, intent, method, request);
  return intent;
}

/** Pays `intent` with the card PaymentMethod `methodId`: a succeeded Charge, as a test card is charged at once. */
function confirm(
  state: EmulatorState,
  intent: PaymentIntentObject,
  methodId: string | null,
  request: RequestInfo,
): void {
  if (intent.status !== "requires_payment_method" && intent.status !== "requires_confirmation") {
    throw invalidState(
      `You cannot confirm this PaymentIntent because it has a status of ${intent.status}.`,
      "intent",
    );
  }
  const method = methodId === null ? undefined : state.paymentMethods.get(methodId);
  if (!method) {
    throw invalidParam(
      "payment_method",
      "You cannot confirm this PaymentIntent because it's missing a payment method.",
      "payment_intent_unexpected_state",
    );
  }
  if (method.type !== "card") {
    throw invalidParam("payment_method", "The emulator's PaymentIntents take cards only.");
  }
  intent.payment_method = method.id;
  state.paymentSources.set(intent.id, {
    type: "card",
    method,
    billing: billingDetails({ ...method.billing_details }),
  });
  settlePayment(state, intent.id, true, request);
}

/** GET /v1/payment_intents, newest first. */
export function listPaymentIntents(state: EmulatorState, params: Params): ListObject<PaymentIntentObject> {
  params.allowOnly([...LIST_PARAMS, "created"]);
  const intents = newestMatching(state.paymentIntents.values(), createdFilter(params), {});
  return paginate(intents, params, "/v1/payment_intents", "payment_intent");
}

/** GET /v1/charges, newest first; `payment_intent` filters. */
export function listCharges(state: EmulatorState, params: Params): ListObject<ChargeObject> {
  params.allowOnly([...LIST_PARAMS, "created", "payment_intent"]);
  const charges = newestMatching(state.charges.values(), createdFilter(params), {
    payment_intent: params.string("payment_intent"),
  });
  return paginate(charges, params, "/v1/charges", "charge");
}
