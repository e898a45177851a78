// PaymentMethods and the payment_pages calls `stripe trigger` makes to pay a Checkout Session through the API.
import { invalidParam, resourceMissing } from "./errors.ts";
import { type Address, emptyAddress, newId, type PaymentMethodObject, unixNow } from "./objects.ts";
import type { Params } from "./params.ts";
import { type CompletionResult, completeSession, getSession, type PaymentChoice } from "./sessions.ts";
import type { EmulatorState } from "./state.ts";

/** Stripe's test card tokens the emulator knows: brand and last four digits. */
const CARD_TOKENS: Record<string, { brand: string; last4: string; country: string }> = {
  tok_visa: { brand: "visa", last4: "4242", country: "US" },
  tok_mastercard: { brand: "mastercard", last4: "4444", country: "US" },
  tok_amex: { brand: "amex", last4: "8431", country: "US" },
};

/**
 * Test IBANs whose debit fails later (checkout.session.async_payment_failed): Stripe's documented failing Austrian
 * test IBAN, and the one the Stripe CLI's `checkout.session.async_payment_failed` recipe pays with. Every other
 * well-formed IBAN succeeds later.
 */
const FAILING_IBANS = new Set(["AT861904300235473202", "IT60X0542811101000000123456"]);

const IBAN_PATTERN = /^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/;

function addressParam(params: Params | undefined): Address {
  const address = emptyAddress();
  if (!params) return address;
  params.allowOnly(["city", "country", "line1", "line2", "postal_code", "state"]);
  for (const key of ["city", "country", "line1", "line2", "postal_code", "state"] as const) {
    address[key] = params.nullableString(key) ?? null;
  }
  return address;
}

/** The card a PaymentMethod shows for a test card: brand, last four digits and country. */
function testCard(known: { brand: string; last4: string; country: string }): PaymentMethodObject["card"] {
  return {
    brand: known.brand,
    checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: "pass" },
    country: known.country,
    display_brand: known.brand,
    exp_month: 12,
    exp_year: new Date().getUTCFullYear() + 5,
    fingerprint: newId("fp").slice(3, 19),
    funding: "credit",
    generated_from: null,
    last4: known.last4,
    networks: { available: [known.brand], preferred: null },
    three_d_secure_usage: { supported: true },
    wallet: null,
    regulated_status: null,
  };
}

/** A card PaymentMethod with no billing details yet. */
function blankMethod(): PaymentMethodObject {
  return {
    id: newId("pm"),
    object: "payment_method",
    allow_redisplay: "unspecified",
    billing_details: {
      address: emptyAddress(),
      email: null,
      name: null,
      phone: null,
      tax_id: null,
    },
    created: unixNow(),
    customer: null,
    customer_account: null,
    livemode: false,
    metadata: {},
    type: "card",
  };
}

/**
 * Stripe's test PaymentMethod ids, usable wherever a PaymentMethod id is: each use makes a fresh card PaymentMethod
 * (the PaymentIntent shows its new id, as on Stripe). A charge paid with a dispute card is disputed right after it
 * succeeds: `pm_card_createDispute` (4000 0000 0000 0259) as a fraud chargeback, `pm_card_createDisputeInquiry`
 * (4000 0000 0000 1976) as an inquiry.
 */
const TEST_METHODS: Record<string, { token: string; last4?: string; dispute?: "chargeback" | "inquiry" }> = {
  pm_card_visa: { token: "tok_visa" },
  pm_card_mastercard: { token: "tok_mastercard" },
  pm_card_amex: { token: "tok_amex" },
  pm_card_createDispute: { token: "tok_visa", last4: "0259", dispute: "chargeback" },
  pm_card_createDisputeInquiry: { token: "tok_visa", last4: "1976", dispute: "inquiry" },
};

/** The PaymentMethod a `param` names: one created earlier, or a fresh one for a Stripe test id such as pm_card_visa. */
export function paymentMethodParam(state: EmulatorState, id: string, param: string): PaymentMethodObject {
  const test = TEST_METHODS[id];
  const known = test && CARD_TOKENS[test.token];
  if (test && known) {
    const method = blankMethod();
    method.card = testCard({ ...known, last4: test.last4 ?? known.last4 });
    state.paymentMethods.set(method.id, method);
    if (test.dispute) state.disputingMethods.set(method.id, test.dispute);
    return method;
  }
  const method = state.paymentMethods.get(id);
  if (!method) throw resourceMissing("payment_method", id, param, 400);
  return method;
}

/** POST /v1/payment_methods (type `card` with a test token, or `sepa_debit` with an IBAN). */
export function createPaymentMethod(state: EmulatorState, params: Params): PaymentMethodObject {
  params.allowOnly(["type", "card", "sepa_debit", "billing_details", "metadata", "expand"]);
  const type = params.requiredString("type");
  const billing = params.map("billing_details");
  billing?.allowOnly(["address", "email", "name", "phone"]);
  const method = blankMethod();
  method.billing_details = {
    address: addressParam(billing?.map("address")),
    email: billing?.nullableString("email") ?? null,
    name: billing?.nullableString("name") ?? null,
    phone: billing?.nullableString("phone") ?? null,
    tax_id: null,
  };
  method.metadata = (params.metadata() ?? {}) as Record<string, string>;
  if (type === "card") {
    const card = params.map("card");
    card?.allowOnly(["token"]);
    const token = card?.string("token");
    if (token === undefined) {
      throw invalidParam(
        "card[token]",
        "Pass a test card token such as tok_visa: the emulator does not accept card numbers.",
      );
    }
    const known = CARD_TOKENS[token];
    if (!known) throw resourceMissing("token", token, "card[token]", 400);
    method.card = testCard(known);
  } else if (type === "sepa_debit") {
    const sepa = params.map("sepa_debit");
    sepa?.allowOnly(["iban"]);
    const iban = sepa?.string("iban")?.replaceAll(" ", "").toUpperCase();
    if (iban === undefined || !IBAN_PATTERN.test(iban)) {
      throw invalidParam(
        "sepa_debit[iban]",
        "The IBAN you provided is invalid.",
        "invalid_bank_account_iban",
      );
    }
    method.type = "sepa_debit";
    method.sepa_debit = {
      bank_code: iban.slice(4, 9),
      branch_code: "",
      country: iban.slice(0, 2),
      fingerprint: newId("fp").slice(3, 19),
      generated_from: { charge: null, setup_attempt: null },
      last4: iban.slice(-4),
    };
    state.paymentMethodIbans.set(method.id, iban);
  } else {
    throw invalidParam("type", "The emulator supports payment methods of type card and sepa_debit.");
  }
  state.paymentMethods.set(method.id, method);
  return method;
}

/**
 * POST /v1/payment_pages/:id/confirm: pays the session with a PaymentMethod, as the hosted page's Pay button does.
 * A card is paid at once; a SEPA debit completes unpaid and its result follows (`onDelayed`).
 */
export function confirmPaymentPage(
  state: EmulatorState,
  id: string,
  params: Params,
  onDelayed: (sessionId: string, succeeds: boolean) => void,
): CompletionResult {
  params.allowOnly(["payment_method", "expected_amount", "expand"]);
  const method = paymentMethodParam(state, params.requiredString("payment_method"), "payment_method");
  const { session } = getSession(state, id);
  if (!session.payment_method_types.includes(method.type)) {
    throw invalidParam(
      "payment_method",
      `This Checkout Session does not accept payment methods of type ${method.type}.`,
      "payment_method_invalid_parameter",
    );
  }
  let payment: PaymentChoice = "card";
  if (method.type === "sepa_debit") {
    const iban = state.paymentMethodIbans.get(method.id) ?? "";
    payment = FAILING_IBANS.has(iban) ? "delayed_failure" : "delayed_success";
  }
  const email = method.billing_details.email;
  if (!email) {
    throw invalidParam(
      "payment_method",
      "The payment method needs billing_details[email] to pay a Checkout Session.",
    );
  }
  return completeSession(
    state,
    id,
    {
      email,
      name: method.billing_details.name,
      phone: method.billing_details.phone,
      billingAddress: method.billing_details.address,
      payment,
      paymentMethodType: method.type,
      paymentMethodId: method.id,
      ...(params.has("expected_amount") && { expectedAmount: params.integer("expected_amount") ?? 0 }),
    },
    onDelayed,
  );
}
