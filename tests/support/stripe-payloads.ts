/** Stripe-shaped test data, built from Stripe's own examples in tests/fixtures/stripe. */
import { readFileSync } from "node:fs";
import Stripe from "stripe";
import type { EventPayload } from "../../src/webhook/route.ts";

const root = new URL("../fixtures/stripe/", import.meta.url);

/** Parses a JSON file under tests/fixtures/stripe. */
export function fixture<T = Record<string, unknown>>(path: string): T {
  return JSON.parse(readFileSync(new URL(path, root), "utf8")) as T;
}

/** Stripe's example objects (fixtures3.json `resources`), deep-copied per call. */
export function example(resource: string): Record<string, unknown> {
  const all = fixture<{ resources: Record<string, Record<string, unknown>> }>("fixtures3.json").resources;
  const found = all[resource];
  if (!found) throw new Error(`fixtures3.json has no resource ${resource}`);
  return structuredClone(found);
}

let counter = 0;
const uid = () =>
  `${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;

/** A paid payment-mode Checkout Session shaped like Stripe's example, with overrides. */
export function checkoutSession(
  overrides: Record<string, unknown> = {},
): Record<string, unknown> & { id: string } {
  const session = example("checkout.session");
  return {
    ...session,
    id: `cs_test_${uid()}`,
    created: Math.floor(Date.now() / 1000),
    // A session of one of the catalog's Payment Links: Stripe copies the link's metadata onto it.
    metadata: { linkshop_id: "ceramic-mug" },
    payment_link: "plink_1MoC3ULkdIwHu7ixZjtGpVl2",
    mode: "payment",
    status: "complete",
    payment_status: "paid",
    currency: "usd",
    amount_subtotal: 3000,
    amount_total: 3000,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    customer_email: null,
    customer_details: {
      address: { city: null, country: "US", line1: null, line2: null, postal_code: "94103", state: null },
      business_name: null,
      email: "jenny@example.com",
      individual_name: null,
      name: "Jenny Rosen",
      phone: null,
      tax_exempt: "none",
      tax_ids: [],
    },
    ...overrides,
  } as Record<string, unknown> & { id: string };
}

/** An Event envelope around `object`, shaped like fixtures3's event. */
export function stripeEvent(
  type: string,
  object: Record<string, unknown>,
  id = `evt_${uid()}`,
): EventPayload {
  const event = example("event");
  return { ...event, id, type, data: { object } } as unknown as EventPayload;
}

/** A line item with an expanded product, shaped like fixtures3's `item`. */
export function lineItem(options: {
  name: string;
  unitAmount: number;
  quantity?: number;
  currency?: string;
  product?: Record<string, unknown> | string | null;
}): Record<string, unknown> & { amount_subtotal: number; amount_total: number; quantity: number } {
  const { name, unitAmount, quantity = 1, currency = "usd" } = options;
  const item = example("item");
  const price = example("price");
  const product = { ...example("product"), id: `prod_${uid()}`, name, metadata: {} };
  return {
    ...item,
    id: `li_${uid()}`,
    currency,
    description: name,
    quantity,
    amount_discount: 0,
    amount_tax: 0,
    amount_subtotal: unitAmount * quantity,
    amount_total: unitAmount * quantity,
    price: {
      ...price,
      id: `price_${uid()}`,
      currency,
      unit_amount: unitAmount,
      unit_amount_decimal: String(unitAmount),
      product: options.product === undefined ? product : options.product,
    },
  } as Record<string, unknown> & { amount_subtotal: number; amount_total: number; quantity: number };
}

/** Signs a payload as Stripe does: `t=<unix>,v1=<HMAC>`. */
export function sign(payload: string, secret: string, timestamp?: number): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp && { timestamp }) });
}

/** A webhook Request carrying `body`, signed with `secret` unless a signature is given. */
export function webhookRequest(
  body: string,
  options: { secret?: string; signature?: string | null; url?: string; timestamp?: number } = {},
): Request {
  const signature =
    options.signature === undefined
      ? sign(body, options.secret ?? "whsec_test_secret", options.timestamp)
      : options.signature;
  return new Request(options.url ?? "http://localhost/api/stripe-webhook", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(signature !== null && { "stripe-signature": signature }),
    },
    body,
  });
}
