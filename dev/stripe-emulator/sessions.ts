// Checkout Sessions: create (API or payment link), list, expire, line items, and paying them.

import { lineItemsParam } from "./catalog.ts";
import { invalidParam, invalidState, StripeError } from "./errors.ts";
import { createdFilter, LIST_PARAMS, newestMatching, paginate } from "./lists.ts";
import {
  type Address,
  type CheckoutSessionObject,
  type LineItemObject,
  type LineItemRecord,
  type ListObject,
  emptyCustomText,
  newId,
  type PaymentLinkObject,
  unixNow,
} from "./objects.ts";
import { mergeMetadata, type Params } from "./params.ts";
import { billingDetails, settlePayment, startPayment } from "./payments.ts";
import { type EmulatorState, lineAmount, NO_REQUEST, type RequestInfo, type SessionRecord } from "./state.ts";

/** How long an unpaid session stays open by default (seconds): 24 hours, Stripe's default and maximum. */
const DEFAULT_SESSION_LIFETIME_S = 24 * 60 * 60;
/** Stripe's minimum for an explicit `expires_at` (seconds from creation). */
const MIN_SESSION_LIFETIME_S = 30 * 60;

/** The payment method a customer picks on the hosted page. */
export type PaymentChoice = "card" | "delayed_success" | "delayed_failure";

export const PAYMENT_CHOICES: readonly PaymentChoice[] = ["card", "delayed_success", "delayed_failure"];

/** A shipping address as the customer enters it. */
export interface ShippingInput {
  name: string;
  address: {
    line1: string;
    line2?: string | null;
    city?: string | null;
    postal_code?: string | null;
    state?: string | null;
    country: string;
  };
}

/** What the customer submits when paying (the hosted page's form, or the test helper's JSON). */
export interface CompletionInput {
  email: string;
  name?: string | null;
  shipping?: ShippingInput | null;
  payment: PaymentChoice;
  /** New quantities for adjustable line items, by line item id. */
  quantities?: Record<string, number>;
  /** The payer's billing address (a PaymentMethod's `billing_details`); shipping, when collected, wins. */
  billingAddress?: Address | null;
  phone?: string | null;
  /**
   * The method's type when paid through the API (`card`, `sepa_debit`); the session keeps the types it was created
   * with. Without it (the hosted page), a delayed choice shows as a bank debit.
   */
  paymentMethodType?: string;
  /** The PaymentMethod that pays, when paid through the API; the Charge shows its card or bank details. */
  paymentMethodId?: string;
  /** The total the customer was shown, minor units; payment is refused when the order now costs something else. */
  expectedAmount?: number;
}

export interface CompletionResult {
  session: CheckoutSessionObject;
  /** Where the customer's browser goes next (303 from the hosted page). */
  redirectUrl: string;
}

/** Field-level problems with a payment attempt; keys are field paths such as `email` or `shipping.address.line1`. */
export class CheckoutValidationError extends StripeError {
  readonly fields: Record<string, string>;

  constructor(fields: Record<string, string>) {
    const [param, message] = Object.entries(fields)[0] ?? ["", "Invalid checkout submission."];
    super(400, message, { param });
    this.name = "CheckoutValidationError";
    this.fields = fields;
  }
}

function recomputeTotals(state: EmulatorState, record: SessionRecord): void {
  const subtotal = record.lineItems.reduce(
    (sum, item) => sum + lineAmount(state.price(item.price), item.quantity),
    0,
  );
  record.session.amount_subtotal = subtotal;
  record.session.amount_total = subtotal;
}

function baseSession(
  state: EmulatorState,
  id: string,
  lineItems: LineItemRecord[],
  now: number,
  expiresAt: number,
): CheckoutSessionObject {
  const firstPrice = state.price((lineItems[0] as LineItemRecord).price);
  const recurring = lineItems.some((item) => state.price(item.price).type === "recurring");
  return {
    id,
    object: "checkout.session",
    adaptive_pricing: { enabled: false },
    after_expiration: null,
    allow_promotion_codes: null,
    amount_subtotal: 0,
    amount_total: 0,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: null,
    cancel_url: null,
    client_reference_id: null,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created: now,
    currency: firstPrice.currency,
    currency_conversion: null,
    custom_fields: [],
    custom_text: emptyCustomText(),
    customer: null,
    customer_account: null,
    customer_creation: "if_required",
    customer_details: null,
    customer_email: null,
    discounts: [],
    expires_at: expiresAt,
    integration_identifier: null,
    invoice: null,
    invoice_creation: { enabled: false, invoice_data: null },
    livemode: false,
    locale: null,
    managed_payments: { enabled: false },
    metadata: {},
    mode: recurring ? "subscription" : "payment",
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: "if_required",
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: ["card"],
    payment_status: "unpaid",
    permissions: null,
    phone_number_collection: { enabled: false },
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: "open",
    submit_type: null,
    subscription: null,
    success_url: null,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: "hosted",
    url: `${state.baseUrl}/c/pay/${id}`,
    wallet_options: null,
  };
}

function urlParam(params: Params, key: string): string | null {
  const value = params.string(key);
  if (value === undefined || value === "") return null;
  if (!/^https?:\/\/\S+$/.test(value)) throw invalidParam(key, "Not a valid URL", "url_invalid");
  return value;
}

/** POST /v1/checkout/sessions (mode=payment). The 100-item cap of real Stripe is not enforced. */
export function createSession(state: EmulatorState, params: Params): CheckoutSessionObject {
  params.allowOnly([
    "mode",
    "line_items",
    "success_url",
    "cancel_url",
    "customer_email",
    "client_reference_id",
    "metadata",
    "shipping_address_collection",
    "payment_intent_data",
    "payment_method_types",
    "expires_at",
    "allow_promotion_codes",
    "billing_address_collection",
    "phone_number_collection",
    "customer_creation",
    "submit_type",
    "locale",
    "ui_mode",
    "expand",
  ]);
  const mode = params.requiredString("mode");
  if (mode !== "payment") throw invalidParam("mode", "The emulator supports mode=payment only.");
  const uiMode = params.string("ui_mode");
  if (uiMode !== undefined && uiMode !== "hosted")
    throw invalidParam("ui_mode", "The emulator supports ui_mode=hosted only.");
  const lineItems = lineItemsParam(state, params, { max: Number.POSITIVE_INFINITY, requireQuantity: true });
  const now = unixNow();
  const expiresAt = params.integer("expires_at") ?? now + DEFAULT_SESSION_LIFETIME_S;
  if (expiresAt < now + MIN_SESSION_LIFETIME_S || expiresAt > now + DEFAULT_SESSION_LIFETIME_S) {
    throw invalidParam(
      "expires_at",
      "The `expires_at` timestamp must be between 30 minutes and 24 hours from now.",
    );
  }
  const session = baseSession(state, newId("cs_test"), lineItems, now, expiresAt);
  session.success_url = urlParam(params, "success_url");
  session.cancel_url = urlParam(params, "cancel_url");
  session.customer_email = params.nullableString("customer_email") ?? null;
  session.client_reference_id = params.nullableString("client_reference_id") ?? null;
  session.metadata = mergeMetadata({}, params.metadata());
  session.locale = params.nullableString("locale") ?? null;
  session.submit_type = params.nullableString("submit_type") ?? null;
  session.allow_promotion_codes = params.boolean("allow_promotion_codes") ?? null;
  const billing = params.string("billing_address_collection");
  if (billing === "auto" || billing === "required") session.billing_address_collection = billing;
  const collection = params.map("shipping_address_collection");
  if (collection) {
    collection.allowOnly(["allowed_countries"]);
    const countries = collection.stringList("allowed_countries") ?? [];
    if (countries.length === 0)
      throw invalidParam("shipping_address_collection[allowed_countries]", "Required.");
    session.shipping_address_collection = { allowed_countries: countries };
  }
  const methods = params.stringList("payment_method_types");
  if (methods && methods.length > 0) session.payment_method_types = methods;
  const phone = params.map("phone_number_collection");
  if (phone) session.phone_number_collection = { enabled: phone.boolean("enabled") ?? false };
  const customerCreation = params.string("customer_creation");
  if (customerCreation === "always" || customerCreation === "if_required")
    session.customer_creation = customerCreation;
  const record: SessionRecord = { session, lineItems };
  recomputeTotals(state, record);
  state.sessions.set(session.id, record);
  return session;
}

/** What a payment link URL's query may carry (Stripe's `prefilled_email` and `client_reference_id`). */
export interface LinkQuery {
  prefilledEmail?: string | null;
  clientReferenceId?: string | null;
}

/** Stripe's rule for `client_reference_id` on payment link URLs: up to 200 letters, digits, `-` and `_`. */
const CLIENT_REFERENCE_PATTERN = /^[A-Za-z0-9_-]{1,200}$/;

/** What opening a payment link does: a fresh session carrying the link's items and settings. */
export function createSessionFromLink(
  state: EmulatorState,
  link: PaymentLinkObject,
  query: LinkQuery = {},
): SessionRecord {
  if (!link.active) throw invalidState("This payment link is no longer active.");
  const source = state.paymentLink(link.id);
  const lineItems = source.lineItems.map((item) => ({
    ...item,
    id: newId("li"),
    adjustable_quantity: item.adjustable_quantity === null ? null : { ...item.adjustable_quantity },
  }));
  const now = unixNow();
  const session = baseSession(state, newId("cs_test"), lineItems, now, now + DEFAULT_SESSION_LIFETIME_S);
  session.payment_link = link.id;
  // Stripe copies a link's metadata onto every session it creates.
  session.metadata = { ...link.metadata };
  session.allow_promotion_codes = link.allow_promotion_codes;
  session.billing_address_collection = link.billing_address_collection;
  session.shipping_address_collection =
    link.shipping_address_collection === null ? null : structuredClone(link.shipping_address_collection);
  session.phone_number_collection = { ...link.phone_number_collection };
  session.customer_creation = link.customer_creation;
  session.custom_text = structuredClone(link.custom_text);
  session.submit_type = link.submit_type;
  session.payment_method_collection = link.payment_method_collection;
  if (link.payment_method_types) session.payment_method_types = [...link.payment_method_types];
  if (link.after_completion.type === "redirect" && link.after_completion.redirect) {
    session.success_url = link.after_completion.redirect.url;
  }
  // Malformed values are dropped rather than refused, so the link still opens.
  if (query.clientReferenceId && CLIENT_REFERENCE_PATTERN.test(query.clientReferenceId)) {
    session.client_reference_id = query.clientReferenceId;
  }
  const record: SessionRecord = { session, lineItems };
  const email = query.prefilledEmail?.trim();
  if (email && email.length <= 254 && EMAIL_PATTERN.test(email)) record.prefilledEmail = email;
  recomputeTotals(state, record);
  state.sessions.set(session.id, record);
  return record;
}

function expireRecord(state: EmulatorState, record: SessionRecord, request: RequestInfo): void {
  record.session.status = "expired";
  record.session.url = null;
  state.emit("checkout.session.expired", record.session, request);
}

/** Expires an open session whose `expires_at` has passed (checked whenever a session is read). */
export function refreshExpiry(state: EmulatorState, record: SessionRecord): SessionRecord {
  if (record.session.status === "open" && record.session.expires_at <= unixNow()) {
    expireRecord(state, record, NO_REQUEST);
  }
  return record;
}

/** A session by id, expired first if its time is up. */
export function getSession(state: EmulatorState, id: string): SessionRecord {
  return refreshExpiry(state, state.session(id));
}

/** POST /v1/checkout/sessions/:id/expire */
export function expireSession(state: EmulatorState, id: string, request: RequestInfo): CheckoutSessionObject {
  const record = getSession(state, id);
  if (record.session.status !== "open") {
    throw invalidState(
      `Only Checkout Sessions with a status of \`open\` can be expired. This session has a status of \`${record.session.status}\`.`,
    );
  }
  expireRecord(state, record, request);
  return record.session;
}

/**
 * POST /v1/checkout/sessions/:id: Stripe lets only `metadata` (and a few fields of open sessions) change after
 * creation; the emulator supports metadata, merged the way Stripe merges it ("" deletes a key).
 */
export function updateSession(state: EmulatorState, id: string, params: Params): CheckoutSessionObject {
  params.allowOnly(["metadata", "expand"]);
  const record = getSession(state, id);
  record.session.metadata = mergeMetadata(record.session.metadata, params.metadata());
  return record.session;
}

/** GET /v1/checkout/sessions, newest first. */
export function listSessions(state: EmulatorState, params: Params): ListObject<CheckoutSessionObject> {
  params.allowOnly([
    ...LIST_PARAMS,
    "payment_link",
    "payment_intent",
    "status",
    "created",
    "customer_details",
  ]);
  const paymentLink = params.string("payment_link");
  const paymentIntent = params.string("payment_intent");
  const status = params.string("status");
  const details = params.map("customer_details");
  details?.allowOnly(["email"]);
  const email = details?.requiredString("email");
  const created = createdFilter(params);
  const sessions = newestMatching(
    [...state.sessions.values()].map((record) => refreshExpiry(state, record).session),
    created,
    { payment_link: paymentLink, payment_intent: paymentIntent, status },
    (session) => email === undefined || session.customer_details?.email === email,
  );
  return paginate(sessions, params, "/v1/checkout/sessions", "checkout.session");
}

/** GET /v1/checkout/sessions/:id/line_items, in the session's order. */
export function listSessionLineItems(
  state: EmulatorState,
  id: string,
  params: Params,
): ListObject<LineItemObject> {
  params.allowOnly([...LIST_PARAMS]);
  const record = getSession(state, id);
  const items = record.lineItems.map((item) => state.renderLineItem(item));
  return paginate(items, params, `/v1/checkout/sessions/${id}/line_items`, "item");
}

function quantityProblems(record: SessionRecord, quantities: Record<string, number>): Record<string, string> {
  const problems: Record<string, string> = {};
  for (const [itemId, quantity] of Object.entries(quantities)) {
    const item = record.lineItems.find((candidate) => candidate.id === itemId);
    const field = `quantities.${itemId}`;
    if (!item) problems[field] = "This item is not part of the order.";
    else if (!item.adjustable_quantity) {
      if (quantity !== item.quantity) problems[field] = "The quantity of this item cannot be changed.";
    } else if (!Number.isInteger(quantity)) problems[field] = "Enter a whole number.";
    else if (
      quantity < (item.adjustable_quantity.minimum ?? 0) ||
      quantity > (item.adjustable_quantity.maximum ?? 99)
    ) {
      problems[field] =
        `Choose a quantity from ${item.adjustable_quantity.minimum ?? 0} to ${item.adjustable_quantity.maximum ?? 99}.`;
    }
  }
  return problems;
}

/** Changes adjustable quantities of an open session (the hosted page's "Update total"). */
export function setQuantities(
  state: EmulatorState,
  id: string,
  quantities: Record<string, number>,
): SessionRecord {
  const record = getSession(state, id);
  if (record.session.status !== "open") throw invalidState("This Checkout Session is no longer open.");
  const problems = quantityProblems(record, quantities);
  if (Object.keys(problems).length > 0) throw new CheckoutValidationError(problems);
  for (const item of record.lineItems) {
    const quantity = quantities[item.id];
    if (quantity !== undefined) item.quantity = quantity;
  }
  recomputeTotals(state, record);
  return record;
}

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function completionProblems(record: SessionRecord, input: CompletionInput): Record<string, string> {
  const problems: Record<string, string> = {};
  if (!EMAIL_PATTERN.test(input.email.trim()))
    problems.email = "Enter an email address like name@example.com.";
  if (!PAYMENT_CHOICES.includes(input.payment)) problems.payment = "Choose a payment method.";
  const collection = record.session.shipping_address_collection;
  if (collection) {
    const shipping = input.shipping;
    if (!shipping?.name.trim()) problems["shipping.name"] = "Enter the recipient's name.";
    if (!shipping?.address.line1.trim()) problems["shipping.address.line1"] = "Enter the street address.";
    if (!shipping?.address.city?.trim()) problems["shipping.address.city"] = "Enter the city.";
    if (!shipping?.address.postal_code?.trim())
      problems["shipping.address.postal_code"] = "Enter the postal code.";
    if (!shipping || !collection.allowed_countries.includes(shipping.address.country)) {
      problems["shipping.address.country"] = "Choose a country this shop ships to.";
    }
  }
  Object.assign(problems, quantityProblems(record, input.quantities ?? {}));
  const total = record.lineItems.reduce(
    (sum, item) => sum + (input.quantities?.[item.id] ?? item.quantity),
    0,
  );
  if (total === 0) problems.line_items = "Add at least one item.";
  return problems;
}

/** What the order costs with the submitted quantities, minor units. */
export function amountFor(
  state: EmulatorState,
  record: SessionRecord,
  quantities: Record<string, number> = {},
): number {
  return record.lineItems.reduce(
    (sum, item) => sum + lineAmount(state.price(item.price), quantities[item.id] ?? item.quantity),
    0,
  );
}

/** Refused payment: the order's total is not the amount the customer agreed to. */
export class AmountMismatchError extends StripeError {
  /** The order's real total, minor units. */
  readonly amount: number;

  constructor(expected: number, amount: number) {
    super(
      400,
      `The expected amount (${expected}) does not match the amount of this Checkout Session (${amount}).`,
      { param: "expected_amount", code: "amount_mismatch" },
    );
    this.name = "AmountMismatchError";
    this.amount = amount;
  }
}

function trimmedOrNull(value: string | null | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
}

/** Where the customer goes after paying: the success URL with `{CHECKOUT_SESSION_ID}` filled in, else our page. */
export function redirectUrlFor(state: EmulatorState, session: CheckoutSessionObject): string {
  if (session.success_url) return session.success_url.replaceAll("{CHECKOUT_SESSION_ID}", session.id);
  return `${state.baseUrl}/c/pay/${session.id}`;
}

/**
 * Pays an open session, as the hosted page's Pay button does: card payments are paid at once; delayed
 * methods complete unpaid and `onDelayed` is told to settle them later. Emits checkout.session.completed.
 */
export function completeSession(
  state: EmulatorState,
  id: string,
  input: CompletionInput,
  onDelayed: (sessionId: string, succeeds: boolean) => void,
): CompletionResult {
  const record = getSession(state, id);
  const { session } = record;
  if (session.status === "expired") throw invalidState("This Checkout Session has expired.");
  if (session.status !== "open") throw invalidState("This Checkout Session is already complete.");
  // A link that stopped (its limit reached, or deactivated) takes no more payments, not even from open pages.
  const link = session.payment_link === null ? undefined : state.paymentLinks.get(session.payment_link)?.link;
  if (link && !link.active) throw invalidState("This payment link is no longer active.");
  const problems = completionProblems(record, input);
  if (Object.keys(problems).length > 0) throw new CheckoutValidationError(problems);
  if (input.expectedAmount !== undefined) {
    const amount = amountFor(state, record, input.quantities);
    if (amount !== input.expectedAmount) throw new AmountMismatchError(input.expectedAmount, amount);
  }

  for (const item of record.lineItems) {
    const quantity = input.quantities?.[item.id];
    if (quantity !== undefined) item.quantity = quantity;
  }
  // Stripe drops items a customer set to zero.
  record.lineItems = record.lineItems.filter((item) => item.quantity > 0);
  recomputeTotals(state, record);

  const shipping = session.shipping_address_collection && input.shipping ? input.shipping : null;
  const shippingAddress: Address | null = shipping
    ? {
        city: trimmedOrNull(shipping.address.city),
        country: shipping.address.country,
        line1: shipping.address.line1.trim(),
        line2: trimmedOrNull(shipping.address.line2),
        postal_code: trimmedOrNull(shipping.address.postal_code),
        state: trimmedOrNull(shipping.address.state),
      }
    : null;
  const email = input.email.trim();
  const address = shippingAddress ?? input.billingAddress ?? null;
  session.customer_details = {
    address: address
      ? { ...address }
      : { city: null, country: null, line1: null, line2: null, postal_code: null, state: null },
    business_name: null,
    email,
    individual_name: null,
    name: trimmedOrNull(input.name) ?? (shipping ? shipping.name.trim() : null),
    phone: trimmedOrNull(input.phone),
    tax_exempt: "none",
    tax_ids: [],
  };
  session.collected_information = {
    business_name: null,
    individual_name: null,
    shipping_details:
      shipping && shippingAddress ? { name: shipping.name.trim(), address: shippingAddress } : null,
  };
  const delayed = input.payment !== "card";
  if (delayed && input.paymentMethodType === undefined) {
    session.payment_method_types = ["card", "us_bank_account"];
  }
  const method =
    input.paymentMethodId === undefined ? undefined : state.paymentMethods.get(input.paymentMethodId);
  // The PaymentIntent's events come first: card `payment_intent.created`, `charge.succeeded`,
  // `payment_intent.succeeded`; delayed `payment_intent.created`, `payment_intent.processing`.
  session.payment_intent = startPayment(
    state,
    session.amount_total,
    session.currency,
    {
      type: input.paymentMethodType ?? (delayed ? "us_bank_account" : "card"),
      ...(method && { method }),
      billing: billingDetails({
        address: session.customer_details.address,
        email,
        name: session.customer_details.name,
        phone: session.customer_details.phone,
      }),
    },
    delayed,
  );
  session.status = "complete";
  session.url = null;
  session.payment_status = delayed ? "unpaid" : "paid";
  if (delayed) record.delayedPayment = "pending";

  if (session.payment_link) countCompletedSession(state, session.payment_link);
  state.emit("checkout.session.completed", session, NO_REQUEST);
  if (delayed) onDelayed(session.id, input.payment === "delayed_success");
  return { session, redirectUrl: redirectUrlFor(state, session) };
}

// A link with `restrictions.completed_sessions.limit` deactivates itself once the limit is reached.
function countCompletedSession(state: EmulatorState, linkId: string): void {
  const record = state.paymentLinks.get(linkId);
  if (!record) return;
  record.completedSessions = (record.completedSessions ?? 0) + 1;
  const restrictions = record.link.restrictions;
  if (!restrictions) return;
  restrictions.completed_sessions.count = record.completedSessions;
  if (record.link.active && restrictions.completed_sessions.count >= restrictions.completed_sessions.limit) {
    record.link.active = false;
    state.emit("payment_link.updated", record.link, NO_REQUEST, { active: true });
  }
}

/** The delayed payment's outcome: async_payment_succeeded (now paid) or async_payment_failed. */
export function settleDelayedPayment(state: EmulatorState, id: string, succeeds: boolean): void {
  const record = state.sessions.get(id);
  if (record?.delayedPayment !== "pending") return;
  record.delayedPayment = succeeds ? "succeeded" : "failed";
  // The Charge and PaymentIntent results come before the session's own event.
  if (record.session.payment_intent !== null) settlePayment(state, record.session.payment_intent, succeeds);
  if (succeeds) {
    record.session.payment_status = "paid";
    state.emit("checkout.session.async_payment_succeeded", record.session, NO_REQUEST);
  } else {
    state.emit("checkout.session.async_payment_failed", record.session, NO_REQUEST);
  }
}
