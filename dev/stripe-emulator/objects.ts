// Shapes of the emulated Stripe objects (top-level fields as in fixtures3.json) and id generation.
import { randomBytes } from "node:crypto";

/** Any JSON value, for nested parts the emulator stores but does not interpret. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export type Metadata = Record<string, string>;

export interface Address {
  city: string | null;
  country: string | null;
  line1: string | null;
  line2: string | null;
  postal_code: string | null;
  state: string | null;
}

export interface AdjustableQuantity {
  enabled: boolean;
  maximum: number | null;
  minimum: number | null;
}

export interface ProductObject {
  id: string;
  object: "product";
  active: boolean;
  created: number;
  default_price: string | null;
  description: string | null;
  images: string[];
  livemode: false;
  marketing_features: { name: string }[];
  metadata: Metadata;
  name: string;
  package_dimensions: Json;
  shippable: boolean | null;
  statement_descriptor: string | null;
  tax_code: string | null;
  type: "good" | "service";
  unit_label: string | null;
  updated: number;
  url: string | null;
}

export interface PriceObject {
  id: string;
  object: "price";
  active: boolean;
  billing_scheme: "per_unit";
  created: number;
  currency: string;
  custom_unit_amount: null;
  livemode: false;
  lookup_key: string | null;
  metadata: Metadata;
  nickname: string | null;
  product: string;
  recurring: {
    interval: string;
    interval_count: number;
    meter: null;
    trial_period_days: null;
    usage_type: "licensed";
  } | null;
  tax_behavior: "exclusive" | "inclusive" | "unspecified";
  tiers_mode: null;
  transform_quantity: null;
  type: "one_time" | "recurring";
  unit_amount: number | null;
  unit_amount_decimal: string;
}

/** A line item as stored: the price is referenced by id and rendered fresh on every read. */
export interface LineItemRecord {
  id: string;
  price: string;
  quantity: number;
  adjustable_quantity: AdjustableQuantity | null;
}

/** A line item as the API returns it (`object: "item"`). */
export interface LineItemObject {
  id: string;
  object: "item";
  adjustable_quantity: AdjustableQuantity | null;
  amount_discount: number;
  amount_subtotal: number;
  amount_tax: number;
  amount_total: number;
  currency: string;
  description: string;
  metadata: Metadata | null;
  price: PriceObject;
  quantity: number;
}

export interface AfterCompletion {
  type: "redirect" | "hosted_confirmation";
  redirect?: { url: string };
  hosted_confirmation?: { custom_message: string | null };
}

export interface PaymentLinkObject {
  id: string;
  object: "payment_link";
  active: boolean;
  after_completion: AfterCompletion;
  allow_promotion_codes: boolean;
  application: null;
  application_fee_amount: null;
  application_fee_percent: null;
  automatic_tax: Json;
  billing_address_collection: "auto" | "required";
  consent_collection: Json;
  currency: string;
  custom_fields: Json[];
  custom_text: Json;
  customer_creation: "always" | "if_required";
  inactive_message: string | null;
  invoice_creation: Json;
  livemode: false;
  managed_payments: Json;
  metadata: Metadata;
  on_behalf_of: null;
  payment_intent_data: Json;
  payment_method_collection: "always" | "if_required";
  payment_method_options: Json;
  payment_method_types: string[] | null;
  phone_number_collection: { enabled: boolean };
  restrictions: { completed_sessions: { count: number; limit: number } } | null;
  shipping_address_collection: { allowed_countries: string[] } | null;
  shipping_options: Json[];
  submit_type: string;
  subscription_data: Json;
  tax_id_collection: Json;
  transfer_data: null;
  url: string;
}

export interface CustomerDetails {
  address: Address | null;
  business_name: string | null;
  email: string | null;
  individual_name: string | null;
  name: string | null;
  phone: string | null;
  tax_exempt: "none";
  tax_ids: Json[];
}

export interface ShippingDetails {
  name: string;
  address: Address;
}

export interface CheckoutSessionObject {
  id: string;
  object: "checkout.session";
  adaptive_pricing: { enabled: boolean };
  after_expiration: null;
  allow_promotion_codes: boolean | null;
  amount_subtotal: number;
  amount_total: number;
  automatic_tax: Json;
  billing_address_collection: "auto" | "required" | null;
  cancel_url: string | null;
  client_reference_id: string | null;
  client_secret: null;
  collected_information: {
    business_name: string | null;
    individual_name: string | null;
    shipping_details: ShippingDetails | null;
  } | null;
  consent: null;
  consent_collection: Json;
  created: number;
  currency: string;
  currency_conversion: null;
  custom_fields: Json[];
  custom_text: Json;
  customer: null;
  customer_account: null;
  customer_creation: "always" | "if_required" | null;
  customer_details: CustomerDetails | null;
  customer_email: string | null;
  discounts: Json[];
  expires_at: number;
  integration_identifier: null;
  invoice: null;
  invoice_creation: Json;
  livemode: false;
  locale: string | null;
  managed_payments: Json;
  metadata: Metadata;
  mode: "payment" | "subscription";
  origin_context: null;
  payment_intent: string | null;
  payment_link: string | null;
  payment_method_collection: "always" | "if_required" | null;
  payment_method_configuration_details: null;
  payment_method_options: Json;
  payment_method_types: string[];
  payment_status: "paid" | "unpaid" | "no_payment_required";
  permissions: null;
  phone_number_collection: { enabled: boolean };
  recovered_from: null;
  saved_payment_method_options: null;
  setup_intent: null;
  shipping_address_collection: { allowed_countries: string[] } | null;
  shipping_cost: null;
  shipping_options: Json[];
  status: "open" | "complete" | "expired";
  submit_type: string | null;
  subscription: null;
  success_url: string | null;
  total_details: { amount_discount: number; amount_shipping: number; amount_tax: number };
  ui_mode: "hosted";
  url: string | null;
  wallet_options: null;
}

export interface EventObject {
  id: string;
  object: "event";
  api_version: string;
  created: number;
  data: { object: Json; previous_attributes?: Json };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export interface WebhookEndpointObject {
  id: string;
  object: "webhook_endpoint";
  api_version: string | null;
  application: null;
  created: number;
  description: string | null;
  enabled_events: string[];
  livemode: false;
  metadata: Metadata;
  secret?: string;
  status: "enabled" | "disabled";
  url: string;
}

/** The list envelope of every list endpoint. */
export interface ListObject<T> {
  object: "list";
  data: T[];
  has_more: boolean;
  url: string;
}

/** Who paid, as a PaymentMethod and its Charge show it. */
export interface BillingDetails {
  address: Address;
  email: string | null;
  name: string | null;
  phone: string | null;
  tax_id: null;
}

/** A PaymentMethod, with the fields of fixtures3.json's `payment_method` that the emulator fills in. */
export interface PaymentMethodObject {
  id: string;
  object: "payment_method";
  allow_redisplay: "unspecified";
  billing_details: BillingDetails;
  card?: {
    brand: string;
    checks: { address_line1_check: null; address_postal_code_check: null; cvc_check: "pass" };
    country: string;
    display_brand: string;
    exp_month: number;
    exp_year: number;
    fingerprint: string;
    funding: "credit";
    generated_from: null;
    last4: string;
    networks: { available: string[]; preferred: null };
    three_d_secure_usage: { supported: boolean };
    wallet: null;
    regulated_status: null;
  };
  sepa_debit?: {
    bank_code: string;
    branch_code: string;
    country: string;
    fingerprint: string;
    generated_from: { charge: null; setup_attempt: null };
    last4: string;
  };
  created: number;
  customer: null;
  customer_account: null;
  livemode: false;
  metadata: Record<string, string>;
  type: "card" | "sepa_debit";
}

/** A PaymentIntent with the top-level fields of fixtures3.json's `payment_intent`. */
export interface PaymentIntentObject {
  id: string;
  object: "payment_intent";
  amount: number;
  amount_capturable: number;
  amount_details: { tip: Record<string, never> };
  amount_received: number;
  application: null;
  application_fee_amount: null;
  automatic_payment_methods: { enabled: boolean } | null;
  canceled_at: null;
  cancellation_reason: null;
  capture_method: "automatic";
  client_secret: string;
  confirmation_method: "automatic";
  created: number;
  currency: string;
  customer: null;
  customer_account: null;
  description: string | null;
  excluded_payment_method_types: null;
  last_payment_error: Json;
  latest_charge: string | null;
  livemode: false;
  managed_payments: { enabled: boolean };
  metadata: Metadata;
  next_action: null;
  on_behalf_of: null;
  payment_method: string | null;
  payment_method_configuration_details: null;
  payment_method_options: Json;
  payment_method_types: string[];
  processing: Json;
  receipt_email: string | null;
  review: null;
  setup_future_usage: null;
  shipping: Json;
  source: null;
  statement_descriptor: string | null;
  statement_descriptor_suffix: string | null;
  status: "requires_payment_method" | "requires_confirmation" | "processing" | "succeeded";
  transfer_data: null;
  transfer_group: null;
}

/** A Charge with the top-level fields of fixtures3.json's `charge`. */
export interface ChargeObject {
  id: string;
  object: "charge";
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  application: null;
  application_fee: null;
  application_fee_amount: null;
  balance_transaction: string | null;
  billing_details: BillingDetails;
  calculated_statement_descriptor: string | null;
  captured: boolean;
  created: number;
  currency: string;
  customer: null;
  description: string | null;
  /** True once a dispute (or an inquiry) is opened on it. */
  disputed: boolean;
  failure_balance_transaction: null;
  failure_code: string | null;
  failure_message: string | null;
  fraud_details: Record<string, never>;
  livemode: false;
  metadata: Metadata;
  on_behalf_of: null;
  outcome: Json;
  paid: boolean;
  payment_intent: string;
  payment_method: string;
  payment_method_details: Json;
  receipt_email: string | null;
  receipt_number: null;
  receipt_url: null;
  /** True once `amount_refunded` reaches `amount_captured`. */
  refunded: boolean;
  /** Its refunds, newest first. */
  refunds: ListObject<RefundObject>;
  review: null;
  shipping: Json;
  source: null;
  source_transfer: null;
  statement_descriptor: string | null;
  statement_descriptor_suffix: string | null;
  status: "succeeded" | "failed" | "pending";
  transfer_data: null;
  transfer_group: null;
}

/** A Refund with the fields of fixtures3.json's `refund`. */
export interface RefundObject {
  id: string;
  object: "refund";
  /** Minor units. */
  amount: number;
  balance_transaction: string | null;
  charge: string;
  created: number;
  currency: string;
  customer: null;
  customer_account: null;
  destination_details: Json;
  metadata: Metadata;
  payment_intent: string;
  payment_method: string;
  reason: "duplicate" | "fraudulent" | "requested_by_customer" | null;
  receipt_number: null;
  source_transfer_reversal: null;
  status: "succeeded";
  transfer_reversal: null;
}

/** A Dispute with the fields of fixtures3.json's `dispute`. */
export interface DisputeObject {
  id: string;
  object: "dispute";
  /** Minor units: what was left of the charge when it was disputed. */
  amount: number;
  balance_transactions: Json[];
  charge: string;
  created: number;
  currency: string;
  /** Every evidence field, null until given. */
  evidence: Record<string, Json>;
  evidence_details: {
    /** Unix seconds. */
    due_by: number;
    enhanced_eligibility: Record<string, never>;
    has_evidence: boolean;
    past_due: boolean;
    submission_count: number;
  };
  enhanced_eligibility_types: string[];
  is_charge_refundable: boolean;
  livemode: false;
  metadata: Metadata;
  payment_intent: string;
  payment_method_details: Json;
  reason: string;
  status:
    | "warning_needs_response"
    | "warning_under_review"
    | "warning_closed"
    | "needs_response"
    | "under_review"
    | "won"
    | "lost";
}

/** How a session was paid: the PaymentMethod when paid through the API, else the hosted page's choice. */
export interface PaymentSource {
  /** `card`, `sepa_debit` or, for the hosted page's delayed choices, `us_bank_account`. */
  type: string;
  method?: PaymentMethodObject;
  billing: BillingDetails;
}

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A random base62 string; ids are unguessable like Stripe's, not sequential. */
export function randomToken(length: number): string {
  const bytes = randomBytes(length);
  let token = "";
  // 248 = 4 * 62: rejecting bytes above it keeps the characters uniformly distributed.
  for (let index = 0; token.length < length; index += 1) {
    if (index >= bytes.length) return token + randomToken(length - token.length);
    const byte = bytes[index] as number;
    if (byte < 248) token += ALPHABET[byte % 62];
  }
  return token;
}

/** Stripe-like id lengths per prefix (the part after the prefix). */
const ID_LENGTHS: Record<string, number> = {
  prod: 14,
  price: 24,
  plink: 24,
  cs_test: 58,
  evt: 24,
  we: 24,
  li: 24,
  pi: 24,
  ch: 24,
  re: 24,
  dp: 24,
  req: 14,
  whsec: 32,
};

export function newId(prefix: keyof typeof ID_LENGTHS | string): string {
  return `${prefix}_${randomToken(ID_LENGTHS[prefix] ?? 24)}`;
}

/** Unix time in seconds, as every Stripe timestamp. */
export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

export function emptyAddress(): Address {
  return { city: null, country: null, line1: null, line2: null, postal_code: null, state: null };
}

/** `custom_text` of a Payment Link or Checkout Session with none set. */
export function emptyCustomText(): Json {
  return { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null };
}
