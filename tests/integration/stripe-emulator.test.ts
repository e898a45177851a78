// The Stripe emulator's REST API, driven through the real stripe SDK over HTTP.
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StripeEmulator, startStripeEmulator } from "../../dev/stripe-emulator/index.ts";
import { example } from "../support/stripe-payloads.ts";
import { emulatorClient, productWithPrice } from "../support/stripe-emulator.ts";

function fixtureKeys(resource: string): string[] {
  return Object.keys(example(resource)).sort();
}

function keys(value: object): string[] {
  return Object.keys(value).sort();
}

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  emulator = await startStripeEmulator();
  stripe = emulatorClient(emulator.url);
});

afterAll(async () => {
  await emulator.close();
});

/** One of each object the shop uses: a product, its price, a Payment Link and a session of it, a line item, an event. */
async function oneOfEach(name: string) {
  const { product, price } = await productWithPrice(stripe, { name });
  const link = await stripe.paymentLinks.create({ line_items: [{ price: price.id, quantity: 1 }] });
  const session = await stripe.checkout.sessions.create({
    mode: "payment",
    line_items: [{ price: price.id, quantity: 2 }],
    success_url: "https://shop.example/thanks",
  });
  const [item] = (await stripe.checkout.sessions.listLineItems(session.id)).data;
  const [event] = (await stripe.events.list({ limit: 1 })).data;
  if (!item || !event) throw new Error("expected a line item and an event");
  return { product, price, link, session, item, event };
}

describe("object shapes match Stripe's own examples (fixtures3.json)", () => {
  it("product, price, payment_link, checkout.session, item, event and webhook_endpoint carry the same top-level fields", async () => {
    const { product, price, link, session, item, event } = await oneOfEach("Shape tee");
    const created = await stripe.webhookEndpoints.create({
      url: "http://127.0.0.1:9/hook",
      enabled_events: ["*"],
    });
    const endpoint = await stripe.webhookEndpoints.retrieve(created.id);

    expect(keys(product)).toEqual(fixtureKeys("product"));
    expect(keys(price)).toEqual(fixtureKeys("price"));
    expect(keys(link)).toEqual(fixtureKeys("payment_link"));
    expect(keys(session)).toEqual(fixtureKeys("checkout.session"));
    expect(keys(item)).toEqual(fixtureKeys("item"));
    expect(keys(event)).toEqual(fixtureKeys("event"));
    expect(keys(endpoint)).toEqual(fixtureKeys("webhook_endpoint"));
    // Intentional difference: like Stripe, the signing secret is returned only by create.
    expect(keys(created)).toEqual([...fixtureKeys("webhook_endpoint"), "secret"].sort());
    expect(created.secret).toMatch(/^whsec_/);
  });

  it("uses Stripe's id prefixes, test mode and the SDK's pinned API version", async () => {
    const { product, price, link, session, item, event } = await oneOfEach("Prefix mug");

    expect(product.id).toMatch(/^prod_[A-Za-z0-9]{14}$/);
    expect(price.id).toMatch(/^price_[A-Za-z0-9]{24}$/);
    expect(link.id).toMatch(/^plink_/);
    expect(link.url).toBe(`${emulator.url}/pay/${link.id}`);
    expect(session.id).toMatch(/^cs_test_/);
    expect(session.url).toBe(`${emulator.url}/c/pay/${session.id}`);
    expect(session.livemode).toBe(false);
    expect(item?.id).toMatch(/^li_/);
    expect(event?.id).toMatch(/^evt_/);
    expect(event?.api_version).toBe(Stripe.API_VERSION);
  });
});

describe("checkout session line items", () => {
  it("auto-paginates 150 items in order with exactly 2 requests at limit 100, expanding price.product", async () => {
    const prices: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      prices.push(
        (await productWithPrice(stripe, { name: `Bulk item ${index}`, unitAmount: 100 + index })).price.id,
      );
    }
    const lineItems = Array.from({ length: 150 }, (_, index) => ({
      price: prices[index % 3] as string,
      quantity: index + 1,
    }));
    const session = await stripe.checkout.sessions.create({ mode: "payment", line_items: lineItems });

    const requests: string[] = [];
    const onRequest = (event: { path: string }) => requests.push(event.path);
    stripe.on("request", onRequest);
    const listed: Stripe.LineItem[] = [];
    try {
      for await (const item of stripe.checkout.sessions.listLineItems(session.id, {
        limit: 100,
        expand: ["data.price.product"],
      })) {
        listed.push(item);
      }
    } finally {
      stripe.off("request", onRequest);
    }

    expect(requests).toHaveLength(2);
    expect(listed.map((item) => item.quantity)).toEqual(lineItems.map((item) => item.quantity));
    expect(new Set(listed.map((item) => item.id)).size).toBe(150);
    const first = listed[0];
    const product = first?.price?.product;
    expect(
      typeof product === "object" && product !== null && "name" in product ? product.name : product,
    ).toBe("Bulk item 0");
    expect(first).toMatchObject({
      object: "item",
      amount_subtotal: 100,
      amount_total: 100,
      amount_discount: 0,
      amount_tax: 0,
      currency: "usd",
      description: "Bulk item 0",
    });
    expect(listed[149]).toMatchObject({ quantity: 150, amount_total: 102 * 150 });
  });

  it("defaults to 10 per page, walks back with ending_before, and rejects a limit above 100", async () => {
    const { price } = await productWithPrice(stripe, { name: "Paged thing", unitAmount: 250 });
    const session = await stripe.checkout.sessions.create({
      mode: "payment",
      line_items: Array.from({ length: 25 }, (_, index) => ({ price: price.id, quantity: index + 1 })),
    });
    const firstPage = await stripe.checkout.sessions.listLineItems(session.id);
    expect(firstPage.data).toHaveLength(10);
    expect(firstPage.has_more).toBe(true);
    expect(firstPage.url).toBe(`/v1/checkout/sessions/${session.id}/line_items`);
    expect(typeof firstPage.data[0]?.price?.product).toBe("string");

    const all = await stripe.checkout.sessions.listLineItems(session.id, { limit: 100 });
    const fifteenth = all.data[14];
    if (!fifteenth) throw new Error("expected 25 items");
    const before = await stripe.checkout.sessions.listLineItems(session.id, {
      limit: 5,
      ending_before: fifteenth.id,
    });
    expect(before.data.map((item) => item.quantity)).toEqual([10, 11, 12, 13, 14]);
    expect(before.has_more).toBe(true);

    await expect(stripe.checkout.sessions.listLineItems(session.id, { limit: 101 })).rejects.toMatchObject({
      type: "StripeInvalidRequestError",
      statusCode: 400,
      param: "limit",
    });
  });

  it("retrieves a session with expanded line_items and their products", async () => {
    const { price } = await productWithPrice(stripe, { name: "Expanded hoodie", unitAmount: 4200 });
    const session = await stripe.checkout.sessions.create({
      mode: "payment",
      line_items: [{ price: price.id, quantity: 3 }],
      metadata: { order_ref: "A-1" },
      customer_email: "buyer@example.com",
    });
    const retrieved = await stripe.checkout.sessions.retrieve(session.id, {
      expand: ["line_items", "line_items.data.price.product"],
    });
    expect(retrieved).toMatchObject({
      amount_subtotal: 12600,
      amount_total: 12600,
      currency: "usd",
      status: "open",
      payment_status: "unpaid",
      metadata: { order_ref: "A-1" },
      customer_email: "buyer@example.com",
      total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    });
    const product = retrieved.line_items?.data[0]?.price?.product as Stripe.Product;
    expect(product.object).toBe("product");
    expect(product.name).toBe("Expanded hoodie");
    // Not expanded: line_items only appear when asked for.
    expect((await stripe.checkout.sessions.retrieve(session.id)).line_items).toBeUndefined();
  });

  it("accepts price_data with inline product_data", async () => {
    const session = await stripe.checkout.sessions.create({
      mode: "payment",
      line_items: [
        {
          price_data: { currency: "eur", unit_amount: 999, product_data: { name: "Ad-hoc poster" } },
          quantity: 2,
        },
      ],
    });
    const [item] = (await stripe.checkout.sessions.listLineItems(session.id)).data;
    expect(item).toMatchObject({ description: "Ad-hoc poster", currency: "eur", amount_total: 1998 });
    expect(item?.price?.active).toBe(false);
  });
});

describe("errors are Stripe-shaped, so the SDK raises its own error classes", () => {
  it("a missing session is StripeInvalidRequestError 404 resource_missing", async () => {
    const error = await stripe.checkout.sessions
      .retrieve("cs_test_missing")
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error).toMatchObject({ statusCode: 404, code: "resource_missing", param: "session" });
  });

  it("no or a non-test API key is a 401 StripeAuthenticationError", async () => {
    const live = emulatorClient(emulator.url, { apiKey: "sk_live_not_allowed_here" });
    await expect(live.products.list()).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    const response = await fetch(`${emulator.url}/v1/products`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { type: "invalid_request_error" } });
  });

  it("unknown and missing parameters are 400s naming the parameter", async () => {
    await expect(
      stripe.products.create({ name: "x", colour: "red" } as Stripe.ProductCreateParams),
    ).rejects.toMatchObject({ statusCode: 400, param: "colour", code: "parameter_unknown" });
    await expect(stripe.prices.create({ currency: "usd", unit_amount: 100 })).rejects.toMatchObject({
      statusCode: 400,
      param: "product",
    });
  });

  it("failNext makes the next matching requests fail with the given status, then recovers", async () => {
    const session = await stripe.checkout.sessions.create({
      mode: "payment",
      line_items: [{ price: (await productWithPrice(stripe, { name: "Flaky item" })).price.id, quantity: 1 }],
    });
    emulator.failNext(`/v1/checkout/sessions/${session.id}/line_items`, 500, 2);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const error = await stripe.checkout.sessions
        .listLineItems(session.id)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Stripe.errors.StripeAPIError);
      expect(error).toMatchObject({ statusCode: 500 });
    }
    expect((await stripe.checkout.sessions.listLineItems(session.id)).data).toHaveLength(1);
  });

  it("failures can also be injected over HTTP, and an SDK with retries rides them out", async () => {
    const response = await fetch(`${emulator.url}/_emulator/fail`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ path: "/v1/products", status: 503, count: 1 }),
    });
    expect(response.status).toBe(200);
    const retrying = emulatorClient(emulator.url, { maxNetworkRetries: 1 });
    // The SDK emits "request" once per attempt: the injected 503, then the retry that succeeds.
    let attempts = 0;
    retrying.on("request", () => {
      attempts += 1;
    });
    const list = await retrying.products.list({ limit: 1 });
    expect(list.object).toBe("list");
    expect(attempts).toBe(2);
  });
});

describe("catalog", () => {
  it("merges product metadata like Stripe: new keys added, empty string deletes", async () => {
    const product = await stripe.products.create({
      name: "Meta mug",
      metadata: { sku: "MUG-1", colour: "blue", "2024": "launch" },
    });
    const updated = await stripe.products.update(product.id, {
      metadata: { colour: "", size: "L", "2024": "" },
    });
    expect(updated.metadata).toEqual({ sku: "MUG-1", size: "L" });
    const event = (await stripe.events.list({ type: "product.updated", limit: 1 })).data[0];
    expect(event?.data.object).toMatchObject({ id: product.id, metadata: { sku: "MUG-1", size: "L" } });
    expect(event?.data.previous_attributes).toEqual({
      metadata: { sku: "MUG-1", colour: "blue", "2024": "launch" },
    });
  });

  it("lists products by active flag and ids", async () => {
    const a = await stripe.products.create({ name: "Listed A" });
    const b = await stripe.products.create({ name: "Listed B", active: false });
    const byIds = await stripe.products.list({ ids: [a.id, b.id] });
    expect(byIds.data.map((product) => product.id)).toEqual([b.id, a.id]);
    const inactive = await stripe.products.list({ active: false, ids: [a.id, b.id] });
    expect(inactive.data.map((product) => product.id)).toEqual([b.id]);
  });

  it("keeps lookup keys unique unless transfer_lookup_key moves them", async () => {
    const { product, price: first } = await productWithPrice(stripe, {
      name: "Lookup tee",
      unitAmount: 1000,
    });
    await stripe.prices.update(first.id, { lookup_key: "lookup-tee-std" });
    await expect(
      stripe.prices.create({
        product: product.id,
        unit_amount: 1200,
        currency: "usd",
        lookup_key: "lookup-tee-std",
      }),
    ).rejects.toMatchObject({ statusCode: 400, param: "lookup_key" });
    const second = await stripe.prices.create({
      product: product.id,
      unit_amount: 1200,
      currency: "usd",
      lookup_key: "lookup-tee-std",
      transfer_lookup_key: true,
    });
    const found = await stripe.prices.list({ lookup_keys: ["lookup-tee-std"], expand: ["data.product"] });
    expect(found.data.map((price) => price.id)).toEqual([second.id]);
    expect(found.data[0]?.product).toMatchObject({ object: "product", name: "Lookup tee" });
    expect((await stripe.prices.retrieve(first.id)).lookup_key).toBeNull();
    const byProduct = await stripe.prices.list({ product: product.id, active: true });
    expect(byProduct.data.map((price) => price.id)).toEqual([second.id, first.id]);
  });

  it("creates a product with default_price_data and deactivates prices", async () => {
    const product = await stripe.products.create({
      name: "Default priced",
      default_price_data: { currency: "gbp", unit_amount: 700 },
      expand: ["default_price"],
    });
    const price = product.default_price as Stripe.Price;
    expect(price).toMatchObject({ object: "price", unit_amount: 700, currency: "gbp", product: product.id });
    const archived = await stripe.prices.update(price.id, { active: false });
    expect(archived.active).toBe(false);
    await expect(
      stripe.paymentLinks.create({ line_items: [{ price: price.id, quantity: 1 }] }),
    ).rejects.toMatchObject({ statusCode: 400, param: "line_items[0][price]" });
  });

  it("creates, updates and lists payment links; line items are updated by id, as on Stripe", async () => {
    const { price } = await productWithPrice(stripe, { name: "Link lamp", unitAmount: 3900 });
    const link = await stripe.paymentLinks.create({
      line_items: [{ price: price.id, quantity: 1, adjustable_quantity: { enabled: true, maximum: 5 } }],
      after_completion: {
        type: "redirect",
        redirect: { url: "https://shop.example/thanks?s={CHECKOUT_SESSION_ID}" },
      },
      shipping_address_collection: { allowed_countries: ["GB", "DE"] },
      metadata: { sku: "LAMP-1" },
      allow_promotion_codes: true,
    });
    expect(link).toMatchObject({
      active: true,
      currency: "usd",
      allow_promotion_codes: true,
      after_completion: {
        type: "redirect",
        redirect: { url: "https://shop.example/thanks?s={CHECKOUT_SESSION_ID}" },
      },
      shipping_address_collection: { allowed_countries: ["GB", "DE"] },
      metadata: { sku: "LAMP-1" },
    });
    const [item] = (await stripe.paymentLinks.listLineItems(link.id)).data;
    if (!item) throw new Error("expected a line item");
    expect(item.adjustable_quantity).toEqual({ enabled: true, minimum: 0, maximum: 5 });

    const updated = await stripe.paymentLinks.update(link.id, {
      active: false,
      line_items: [{ id: item.id, quantity: 2 }],
      metadata: { sku: "" },
    });
    expect(updated).toMatchObject({ active: false, metadata: {} });
    expect((await stripe.paymentLinks.listLineItems(link.id)).data[0]?.quantity).toBe(2);
    await expect(
      stripe.paymentLinks.update(link.id, {
        line_items: [{ price: price.id, quantity: 1 }],
      } as unknown as Stripe.PaymentLinkUpdateParams),
    ).rejects.toMatchObject({ statusCode: 400 });
    const inactive = await stripe.paymentLinks.list({ active: false });
    expect(inactive.data.map((candidate) => candidate.id)).toContain(link.id);
    const retrieved = await stripe.paymentLinks.retrieve(link.id);
    expect(retrieved.active).toBe(false);
  });

  it("replays a retried POST with the same Idempotency-Key instead of creating twice", async () => {
    const first = await stripe.products.create({ name: "Once only" }, { idempotencyKey: "sync-once-only" });
    const again = await stripe.products.create({ name: "Once only" }, { idempotencyKey: "sync-once-only" });
    expect(again.id).toBe(first.id);
    await expect(
      stripe.products.create({ name: "Different" }, { idempotencyKey: "sync-once-only" }),
    ).rejects.toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    const created = await stripe.events.list({ type: "product.created", limit: 100 });
    expect(
      created.data.filter((event) => (event.data.object as Stripe.Product).id === first.id),
    ).toHaveLength(1);
    expect(
      created.data.find((event) => (event.data.object as Stripe.Product).id === first.id)?.request,
    ).toEqual({
      id: expect.stringMatching(/^req_/),
      idempotency_key: "sync-once-only",
    });
  });
});

describe("events and webhook endpoints", () => {
  it("lists events newest first, filtered by type (with wildcards) and retrieves one", async () => {
    const { product } = await productWithPrice(stripe, { name: "Evented" });
    const products = await stripe.events.list({ type: "product.*", limit: 3 });
    expect(products.data.every((event) => event.type.startsWith("product."))).toBe(true);
    const latest = (await stripe.events.list({ type: "product.created", limit: 1 })).data[0];
    expect(latest?.data.object).toMatchObject({ id: product.id });
    const retrieved = await stripe.events.retrieve(latest?.id ?? "");
    expect(retrieved).toEqual({ ...latest });
    const nothing = await stripe.events.list({ created: { lt: 1 } });
    expect(nothing.data).toEqual([]);
  });

  it("manages webhook endpoints; the secret appears only on create", async () => {
    const created = await stripe.webhookEndpoints.create({
      url: "http://127.0.0.1:9/webhook",
      enabled_events: ["checkout.session.completed"],
      description: "shop",
    });
    const updated = await stripe.webhookEndpoints.update(created.id, {
      enabled_events: ["checkout.session.completed", "checkout.session.async_payment_succeeded"],
      disabled: true,
    });
    expect(updated).toMatchObject({ status: "disabled", description: "shop" });
    expect(updated).not.toHaveProperty("secret");
    const listed = await stripe.webhookEndpoints.list();
    expect(listed.data.map((endpoint) => endpoint.id)).toContain(created.id);
    const deleted = await stripe.webhookEndpoints.del(created.id);
    expect(deleted).toMatchObject({ id: created.id, deleted: true });
    await expect(stripe.webhookEndpoints.retrieve(created.id)).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe("checkout session metadata and listing", () => {
  it("updates a session's metadata like Stripe: merged, empty string deletes, other fields refused", async () => {
    const { price } = await productWithPrice(stripe, { name: "Metadata mug" });
    const session = await stripe.checkout.sessions.create({
      mode: "payment",
      line_items: [{ price: price.id, quantity: 1 }],
      metadata: { linkshop_id: "mug", note: "x" },
    });
    const updated = await stripe.checkout.sessions.update(session.id, {
      metadata: { linkshop_fulfilled_at: "2026-03-01T12:00:00.000Z", note: "" },
    });
    expect(updated.metadata).toEqual({
      linkshop_id: "mug",
      linkshop_fulfilled_at: "2026-03-01T12:00:00.000Z",
    });
    expect((await stripe.checkout.sessions.retrieve(session.id)).metadata).toEqual(updated.metadata);
    await expect(
      stripe.checkout.sessions.update(session.id, { customer_email: "x@example.com" } as never),
    ).rejects.toMatchObject({ statusCode: 400 });
  });

  it("lists complete sessions newest first with created filters and cursor pagination", async () => {
    const { price } = await productWithPrice(stripe, { name: "Listing mug" });
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      const session = await stripe.checkout.sessions.create({
        mode: "payment",
        line_items: [{ price: price.id, quantity: 1 }],
      });
      emulator.completeSession(session.id, { email: "jenny@example.com", payment: "card" });
      created.push(session.id);
    }
    const since = (await stripe.checkout.sessions.retrieve(created[0] as string)).created;
    const first = await stripe.checkout.sessions.list({
      status: "complete",
      created: { gte: since },
      limit: 2,
    });
    expect(first.has_more).toBe(true);
    const seen = [...first.data];
    let page = first;
    while (page.has_more) {
      page = await stripe.checkout.sessions.list({
        status: "complete",
        created: { gte: since },
        limit: 2,
        starting_after: page.data.at(-1)?.id,
      });
      seen.push(...page.data);
    }
    const ours = seen.map((s) => s.id).filter((id) => created.includes(id));
    expect(ours).toEqual([...created].reverse());
    expect(seen.every((s) => s.status === "complete" && s.created >= since)).toBe(true);
    const future = await stripe.checkout.sessions.list({ created: { gt: since + 3600 } });
    expect(future.data).toEqual([]);
  });
});
