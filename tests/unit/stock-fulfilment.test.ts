import { describe, expect, it } from "vitest";
import { parseCatalog } from "../../src/shop/catalog.ts";
import { soldOutProducts } from "../../src/stock/sales.ts";
import type { LineItemPayload } from "../../src/order/model.ts";
import { createWebhookHandler } from "../../src/webhook/handler.ts";
import { fakeDeps } from "../support/fakes.ts";
import { MemorySales } from "../support/stock.ts";
import { checkoutSession, lineItem, stripeEvent, webhookRequest } from "../support/stripe-payloads.ts";

const secret = "whsec_stock";
const catalog = parseCatalog({
  shop: { name: "Print Shop", currency: "usd", supportEmail: "help@print.example", locale: "en-US" },
  products: [
    { id: "poster", name: "Limited Poster", description: "A run of two.", price: { amount: 4000 }, stock: 2 },
  ],
});

function setup() {
  const sales = new MemorySales();
  const fakes = fakeDeps({ stock: { catalog, sales } });
  const handle = createWebhookHandler({
    webhookSecret: secret,
    deps: fakes.deps,
    log: fakes.deps.log,
    drain: fakes.drain,
  });
  const order = (overrides: Record<string, unknown> = {}) => {
    const session = checkoutSession({
      amount_subtotal: 4000,
      amount_total: 4000,
      metadata: { linkshop_id: "poster" },
      ...overrides,
    });
    fakes.sessions.sessions.set(session.id, structuredClone(session) as never);
    fakes.lineItems.items[session.id] = [
      lineItem({
        name: "Limited Poster",
        unitAmount: 4000,
        product: {
          id: "prod_poster",
          object: "product",
          name: "Limited Poster",
          metadata: { linkshop_id: "poster" },
        },
      }),
    ] as unknown as LineItemPayload[];
    return stripeEvent("checkout.session.completed", session);
  };
  /** The same checkout's delayed payment clearing: its async_payment_succeeded event. */
  const cleared = (event: ReturnType<typeof order>) =>
    stripeEvent("checkout.session.async_payment_succeeded", {
      ...(event.data.object as Record<string, unknown>),
      payment_status: "paid",
    });
  const deliver = async (event: unknown) =>
    (await handle(webhookRequest(JSON.stringify(event), { secret }))).status;
  return { ...fakes, sales, order, cleared, deliver };
}

describe("limited stock at fulfilment", () => {
  it("counts each paid order once, however often it is delivered, and the product is then sold out", async () => {
    const { order, deliver, sales } = setup();
    const first = order();
    expect(await deliver(first)).toBe(200);
    expect(await deliver(first)).toBe(200);
    expect(await soldOutProducts(catalog, sales)).toEqual([]);
    expect(await deliver(order())).toBe(200);
    expect(await soldOutProducts(catalog, sales)).toEqual(["poster"]);
    expect(await sales.counts(["poster:usd:4000"])).toEqual([2]);
  });

  it("tells the merchant once when paid orders exceed the stock, through the same mail queue", async () => {
    const { order, deliver, mailer } = setup();
    for (let i = 0; i < 4; i++) expect(await deliver(order())).toBe(200);
    const alerts = mailer.sent.filter(
      (email) => /sold more/i.test(email.subject) || /oversold/i.test(email.idempotencyKey),
    );
    expect(alerts.map((email) => [email.to, email.idempotencyKey])).toEqual([
      ["owner@shop.example", "linkshop-oversold-poster:usd:4000-2"],
    ]);
    // Every customer still got a receipt: the order was paid.
    expect(mailer.sent.filter((email) => email.to === "jenny@example.com")).toHaveLength(4);
  });

  it("counts a delayed payment's checkout when it completes, as Stripe's limit does, and once when it clears", async () => {
    const { order, cleared, deliver, sales } = setup();
    const unpaid = order({ payment_status: "unpaid" });
    expect(await deliver(unpaid)).toBe(200);
    expect(await sales.counts(["poster:usd:4000"])).toEqual([1]);
    // The payment clears: fulfilled now, still one checkout.
    expect(await deliver(cleared(unpaid))).toBe(200);
    expect(await sales.counts(["poster:usd:4000"])).toEqual([1]);
    // Another checkout whose payment never clears: Stripe's link has counted two, and so has the shop.
    expect(await deliver(order({ payment_status: "unpaid" }))).toBe(200);
    expect(await soldOutProducts(catalog, sales)).toEqual(["poster"]);
  });
});
