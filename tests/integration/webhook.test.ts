/**
 * The webhook over real HTTP to its dependencies: the Stripe SDK against the local Stripe emulator, @upstash/redis
 * against the Upstash bridge in front of a real Redis, and Resend against the local outbox.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rm } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import { Redis } from "@upstash/redis";
import type Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { resendMailer } from "../../src/adapters/resend.ts";
import { createStripeClient, stripeLineItems, stripeSessions } from "../../src/adapters/stripe.ts";
import { createRedisClient, upstashClaimStore, upstashLedger } from "../../src/adapters/upstash.ts";
import { type Outbox, startOutbox } from "../../dev/outbox.ts";
import { type StripeEmulator, startStripeEmulator } from "../../dev/stripe-emulator/index.ts";
import { startUpstashBridge, type UpstashBridge } from "../../dev/upstash-bridge.ts";
import catalogFile from "../../catalog.json" with { type: "json" };
import { webhookFromEnv } from "../../src/app.ts";
import { services } from "../../src/services.ts";
import { parseCatalog } from "../../src/shop/catalog.ts";
import { readConfig } from "../../src/config.ts";
import { createOrderStatusHandler } from "../../src/order-status/handler.ts";
import type { LogFields } from "../../src/lib/log.ts";
import { createWebhookHandler } from "../../src/webhook/handler.ts";
import { redisBackend } from "../support/redis.ts";
import { sign, webhookRequest } from "../support/stripe-payloads.ts";
import { testShop } from "../support/fakes.ts";
import { orderNumber } from "../../src/order/number.ts";

const secret = "whsec_integration_secret";
const apiKey = "sk_test_integration";
let emulator: StripeEmulator;
let outbox: Outbox;
const outboxDir = join(tmpdir(), `linkshop-outbox-${randomUUID()}`);
let bridge: UpstashBridge;
let stripe: Stripe;
let redis: Redis;
let env: Record<string, string>;
// Keys of this run only, in a Redis other runs share.
const prefix = `test:${randomUUID()}:`;

beforeAll(async () => {
  [emulator, outbox, bridge] = await Promise.all([
    startStripeEmulator({ port: 0, asyncPaymentDelayMs: 5 }),
    startOutbox({ port: 0, dir: outboxDir }),
    startUpstashBridge({ token: "bridge-token", port: 0, backend: redisBackend, onWarning: () => {} }),
  ]);
  stripe = createStripeClient(apiKey, new URL(emulator.url));
  redis = new Redis({ url: bridge.url, token: bridge.token, automaticDeserialization: false });
  // The Resend SDK reads its base URL from the environment when a client is created.
  process.env.RESEND_BASE_URL = outbox.url;
  env = {
    STRIPE_SECRET_KEY: apiKey,
    STRIPE_WEBHOOK_SECRET: secret,
    STRIPE_API_BASE: emulator.url,
    UPSTASH_REDIS_REST_URL: bridge.url,
    UPSTASH_REDIS_REST_TOKEN: bridge.token,
    RESEND_API_KEY: "re_integration",
    EMAIL_FROM: "Fern & Fig <orders@shop.example>",
    MERCHANT_EMAIL: "owner@shop.example",
    LINKSHOP_REDIS_PREFIX: prefix,
  };
});

afterAll(async () => {
  delete process.env.RESEND_BASE_URL;
  const keys = redis ? await redis.keys(`${prefix}*`) : [];
  if (keys.length > 0) await redis.del(...keys);
  await Promise.all([
    emulator?.close(),
    outbox?.close().then(() => rm(outboxDir, { recursive: true, force: true })),
    bridge?.close(),
  ]);
});

beforeEach(async () => {
  await outbox.clear();
});

/** A session with `items` created in the emulator through the SDK, then paid on its hosted page. */
async function paidSession(
  items: { name: string; unitAmount: number; quantity?: number }[],
  options: {
    currency?: string;
    payment?: "card" | "delayed_success" | "delayed_failure";
    email?: string;
    /** Session metadata; by default the `linkshop_id` a catalog Payment Link would have copied onto it. */
    metadata?: Record<string, string>;
  } = {},
) {
  const currency = options.currency ?? "usd";
  const lineItems = [];
  for (const item of items) {
    const product = await stripe.products.create({ name: item.name });
    const price = await stripe.prices.create({ product: product.id, unit_amount: item.unitAmount, currency });
    lineItems.push({ price: price.id, quantity: item.quantity ?? 1 });
  }
  const session = await stripe.checkout.sessions.create({
    mode: "payment",
    line_items: lineItems,
    success_url: "http://localhost:8888/thanks?session_id={CHECKOUT_SESSION_ID}",
    metadata: options.metadata ?? { linkshop_id: "mug" },
  });
  const res = await fetch(`${emulator.url}/_emulator/checkout/sessions/${session.id}/complete`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      email: options.email ?? "jenny@example.com",
      name: "Jenny Rosen",
      payment: options.payment ?? "card",
    }),
  });
  expect(res.ok).toBe(true);
  return session.id;
}

/** The event the emulator recorded for the session, exactly as it would deliver it. */
async function eventFor(sessionId: string, type = "checkout.session.completed"): Promise<string> {
  for await (const event of stripe.events.list({ type, limit: 100 })) {
    if ((event.data.object as { id?: string }).id === sessionId) return JSON.stringify(event);
  }
  throw new Error(`no ${type} event for ${sessionId}`);
}

function handler(log: (event: string, fields?: LogFields) => void = () => {}) {
  return webhookFromEnv(env, log);
}

async function post(handle: (req: Request) => Promise<Response>, body: string) {
  const res = await handle(webhookRequest(body, { secret }));
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const receipts = () => outbox.emails().filter((email) => email.to.includes("jenny@example.com"));

describe("webhook over real services", () => {
  it("fulfils an order of 12 items: one receipt listing all of them, one merchant notice", async () => {
    const names = Array.from({ length: 12 }, (_, i) => `Print no. ${i + 1}`);
    const sessionId = await paidSession(
      names.map((name, i) => ({ name, unitAmount: 1000 + i, quantity: 1 })),
    );
    const result = await post(handler(), await eventFor(sessionId));
    expect(result).toEqual({ status: 200, body: { received: true, outcome: "fulfilled" } });
    const [receipt] = receipts();
    for (const name of names) expect(receipt?.text).toContain(name);
    expect(receipt?.idempotencyKey).toBe(`linkshop-receipt-${sessionId}`);
    expect(outbox.emails().map((email) => email.to)).toEqual([["jenny@example.com"], ["owner@shop.example"]]);
    expect(await redis.hget(`${prefix}ledger:${sessionId}`, "state")).toBe("fulfilled");
    expect(await redis.ttl(`${prefix}ledger:${sessionId}`)).toBe(-1);
    expect(await redis.zscore(`${prefix}ledger:index`, sessionId)).not.toBeNull();
    // Stripe keeps its own copy of "fulfilled".
    const session = await stripe.checkout.sessions.retrieve(sessionId);
    expect(session.metadata).toMatchObject({
      linkshop_id: "mug",
      linkshop_fulfilled_at: expect.any(String),
      linkshop_order: orderNumber(sessionId),
    });
  });

  it("lists an order of 100 items in one Stripe call, and 150 items in two", async () => {
    const requests: string[] = [];
    const counted = createStripeClient(apiKey, new URL(emulator.url));
    counted.on("request", (event: { path: string }) => requests.push(event.path));
    const source = stripeLineItems(counted);
    for (const [count, calls] of [
      [100, 1],
      [150, 2],
    ] as const) {
      requests.length = 0;
      const sessionId = await paidSession(
        Array.from({ length: count }, (_, i) => ({ name: `Item ${i + 1}`, unitAmount: 100 + i })),
      );
      const items = await source.listLineItems(sessionId);
      expect(items.map((item) => item.description)).toEqual(
        Array.from({ length: count }, (_, i) => `Item ${i + 1}`),
      );
      expect(requests).toHaveLength(calls);
      expect(requests.map((path) => path.split("?")[0])).toEqual(
        Array(calls).fill(`/v1/checkout/sessions/${sessionId}/line_items`),
      );
    }
  });

  it("formats a zero-decimal currency and escapes markup in product names", async () => {
    const sessionId = await paidSession([{ name: "<b>Matcha</b> & tin", unitAmount: 1200, quantity: 3 }], {
      currency: "jpy",
    });
    await post(handler(), await eventFor(sessionId));
    const [receipt] = receipts();
    expect(receipt?.text).toContain("3 × <b>Matcha</b> & tin @ ¥1,200 = ¥3,600");
    expect(receipt?.html).toContain("&lt;b&gt;Matcha&lt;/b&gt; &amp; tin");
    expect(receipt?.html).not.toContain("<b>Matcha");
  });

  it("acknowledges a duplicate delivery without sending again", async () => {
    const sessionId = await paidSession([{ name: "Mug", unitAmount: 1500 }]);
    const body = await eventFor(sessionId);
    const handle = handler();
    await post(handle, body);
    expect((await post(handle, body)).body.outcome).toBe("duplicate");
    expect(receipts()).toHaveLength(1);
  });

  it("sends exactly one email when 25 deliveries of one event arrive at once", async () => {
    const sessionId = await paidSession([{ name: "Mug", unitAmount: 1500 }]);
    const body = await eventFor(sessionId);
    const handle = handler();
    const results = await Promise.all(Array.from({ length: 25 }, () => post(handle, body)));
    expect(results.every((r) => r.status === 200 || r.status === 409)).toBe(true);
    expect(results.filter((r) => r.body.outcome === "fulfilled")).toHaveLength(1);
    expect(receipts()).toHaveLength(1);
  });

  it("waits for a delayed payment, then fulfils once on async_payment_succeeded", async () => {
    const sessionId = await paidSession([{ name: "Mug", unitAmount: 1500 }], { payment: "delayed_success" });
    const handle = handler();
    expect((await post(handle, await eventFor(sessionId))).body.outcome).toBe("ignored");
    expect(outbox.emails()).toHaveLength(0);
    await emulator.idle();
    const succeeded = await eventFor(sessionId, "checkout.session.async_payment_succeeded");
    expect((await post(handle, succeeded)).body.outcome).toBe("fulfilled");
    expect((await post(handle, succeeded)).body.outcome).toBe("duplicate");
    expect(receipts()).toHaveLength(1);
  });

  it("tells the customer once when a delayed payment fails", async () => {
    const sessionId = await paidSession([{ name: "Mug", unitAmount: 1500 }], { payment: "delayed_failure" });
    await emulator.idle();
    const failed = await eventFor(sessionId, "checkout.session.async_payment_failed");
    const handle = handler();
    await post(handle, failed);
    await post(handle, failed);
    // The shop's name and support address come from the catalog.
    expect(outbox.emails().map((email) => [email.subject, email.replyTo])).toEqual([
      ["Your Trailhead Goods payment did not go through", ["help@trailhead.example"]],
    ]);
  });
});

describe("a shop in German", () => {
  it("sends a German receipt in euros, replies to support, and the order status names the same order", async () => {
    const catalog = parseCatalog({
      ...catalogFile,
      shop: { ...catalogFile.shop, currency: "eur", locale: "de-DE", supportEmail: "hilfe@laden.example" },
    });
    const deps = services(readConfig({ ...env, URL: "https://laden.example" }), () => {}, catalog);
    const webhook = createWebhookHandler({ webhookSecret: secret, deps, log: () => {} });
    const sessionId = await paidSession([{ name: "Becher", unitAmount: 1500, quantity: 2 }], {
      currency: "eur",
    });
    expect(await post(webhook, await eventFor(sessionId))).toEqual({
      status: 200,
      body: { received: true, outcome: "fulfilled" },
    });
    const [receipt] = receipts();
    const number = orderNumber(sessionId);
    expect(receipt?.subject).toBe(`Ihre Bestellung ${number} bei Trailhead Goods: 30,00\u00a0€`);
    expect(receipt?.replyTo).toEqual(["hilfe@laden.example"]);
    expect(receipt?.text).toContain("2 × Becher @ 15,00\u00a0€ = 30,00\u00a0€");
    expect(receipt?.text).toContain(`Bestellnummer: ${number}`);
    expect(receipt?.html).toContain('<html lang="de-DE">');

    const status = createOrderStatusHandler({ deps, log: () => {} });
    const res = await status(new Request(`https://laden.example/api/order-status?session_id=${sessionId}`));
    expect(await res.json()).toMatchObject({
      status: "paid",
      orderNumber: number,
      total: { amount: 3000, currency: "eur", formatted: "30,00\u00a0€" },
    });
  });
});

describe("the ledger over real services", () => {
  it("sends no second receipt after Resend's keys expired and the whole Redis database was lost", async () => {
    const sessionId = await paidSession([{ name: "Mug", unitAmount: 1500 }]);
    const handle = handler();
    // Resend forgets a key after 24 hours, so this redelivery comes days after the event was created.
    const created = JSON.parse(await eventFor(sessionId)) as { created: number };
    created.created -= 3 * 24 * 60 * 60;
    const original = JSON.stringify(created, null, 2);
    await post(handle, original);
    expect(receipts()).toHaveLength(1);
    // Everything this shop had in Redis is gone, and Resend forgot its idempotency keys.
    const keys = await redis.keys(`${prefix}*`);
    await redis.del(...keys);
    await outbox.clear();
    // Stripe redelivers the original event: its payload predates the fulfilled marker, Stripe's session has it.
    expect(JSON.parse(original).data.object.metadata).not.toHaveProperty("linkshop_fulfilled_at");
    expect((await post(handle, original)).body.outcome).toBe("duplicate");
    expect(outbox.emails()).toHaveLength(0);
    expect(await redis.hget(`${prefix}ledger:${sessionId}`, "state")).toBe("fulfilled");
  });

  it("treats Resend's 409 invalid_idempotent_request as already sent, not as stuck", async () => {
    const mailer = resendMailer({ apiKey: "re_integration", from: "Shop <orders@shop.example>" });
    const key = `linkshop-receipt-cs_test_${randomUUID().replaceAll("-", "")}`;
    const email = { to: "jenny@example.com", subject: "Your order", html: "<p>1</p>", text: "1" };
    const first = await mailer.send(email, key);
    expect(first.id).toEqual(expect.any(String));
    // The product was renamed between attempts: same key, different body.
    expect(await mailer.send({ ...email, text: "renamed" }, key)).toEqual({ id: undefined });
    expect(outbox.emails()).toHaveLength(1);
  });

  it("acknowledges a Resend 422 on the receipt, still tells the merchant, and alerts in a separate email", async () => {
    const logs: ({ event: string } & LogFields)[] = [];
    const sessionId = await paidSession([{ name: "Mug", unitAmount: 1500 }], {
      email: "jenny<x>@example.com",
    });
    const result = await post(
      handler((event, fields) => logs.push({ event, ...fields })),
      await eventFor(sessionId),
    );
    expect(result).toEqual({ status: 200, body: { received: true, outcome: "failed" } });
    expect(outbox.emails().map((email) => [email.to, email.subject])).toEqual([
      [["owner@shop.example"], `[TEST] New order ${orderNumber(sessionId)}: $15.00, 1 item`],
      [["owner@shop.example"], "Order not fulfilled: receipt:resend:422:validation_error"],
    ]);
    const record = JSON.parse((await redis.hget<string>(`${prefix}ledger:${sessionId}`, "record")) ?? "{}");
    expect(record).toMatchObject({ state: "failed", reason: "receipt:resend:422:validation_error" });
    expect(JSON.stringify(record)).not.toContain("jenny<x>");
    expect(logs).toContainEqual(expect.objectContaining({ event: "order.failed", level: "error" }));
    expect(JSON.stringify(logs)).not.toContain("jenny@");
  });

  it("gives a session without the shop's Payment Link metadata nothing, and acknowledges it", async () => {
    const sessionId = await paidSession([{ name: "Mug", unitAmount: 1500 }], { metadata: {} });
    const result = await post(handler(), await eventFor(sessionId));
    expect(result).toEqual({ status: 200, body: { received: true, outcome: "ignored" } });
    expect(outbox.emails()).toHaveLength(0);
    expect(await redis.exists(`${prefix}ledger:${sessionId}`)).toBe(0);
  });
});

describe("failing dependencies over real services", () => {
  it("answers 502 while Stripe fails, sends nothing, and the retry sends exactly one", async () => {
    const sessionId = await paidSession([{ name: "Mug", unitAmount: 1500 }]);
    const body = await eventFor(sessionId);
    const handle = handler();
    // Enough failures to outlast the SDK's own network retry.
    emulator.failNext(`/v1/checkout/sessions/${sessionId}/line_items`, 500, 2);
    expect(await post(handle, body)).toEqual({ status: 502, body: { error: "stripe:500" } });
    expect(outbox.emails()).toHaveLength(0);
    expect(await redis.exists(`${prefix}ledger:${sessionId}`)).toBe(0);
    expect((await post(handle, body)).body.outcome).toBe("fulfilled");
    expect(receipts()).toHaveLength(1);
  });

  it("answers 502 while Resend fails, and the retry sends exactly one", async () => {
    const sessionId = await paidSession([{ name: "Mug", unitAmount: 1500 }]);
    const body = await eventFor(sessionId);
    const handle = handler();
    outbox.failNext(1, 500);
    expect(await post(handle, body)).toEqual({
      status: 502,
      body: { error: "resend:500:internal_server_error" },
    });
    expect(outbox.emails()).toHaveLength(0);
    expect((await post(handle, body)).body.outcome).toBe("fulfilled");
    expect(receipts()).toHaveLength(1);
  });

  describe("Resend rate limiting", () => {
    const waits: number[] = [];
    const build = () =>
      createWebhookHandler({
        webhookSecret: secret,
        log: () => {},
        deps: {
          claims: upstashClaimStore(createRedisClient(bridge.url, bridge.token), prefix),
          ledger: upstashLedger(createRedisClient(bridge.url, bridge.token), prefix),
          lineItems: stripeLineItems(stripe),
          sessions: stripeSessions(stripe),
          scope: "shop",
          now: Date.now,
          mailer: resendMailer({
            apiKey: "re_integration",
            from: env.EMAIL_FROM ?? "",
            wait: async (ms) => {
              waits.push(ms);
            },
          }),
          shop: testShop({ name: "Fern & Fig" }),
          merchantEmail: undefined,
          log: () => {},
        },
      });

    beforeEach(() => {
      waits.length = 0;
    });

    it("honours retry-after on a 429 and sends within the same delivery", async () => {
      const sessionId = await paidSession([{ name: "Mug", unitAmount: 1500 }]);
      outbox.failNext(1, 429, { retryAfterSeconds: 1 });
      expect((await post(build(), await eventFor(sessionId))).status).toBe(200);
      expect(waits).toEqual([1000]);
      expect(receipts()).toHaveLength(1);
    });

    it("gives up with 502 when the rate limit outlasts the short retry, and the next delivery sends once", async () => {
      const sessionId = await paidSession([{ name: "Mug", unitAmount: 1500 }]);
      const body = await eventFor(sessionId);
      outbox.failNext(3, 429, { retryAfterSeconds: 1 });
      expect(await post(build(), body)).toEqual({
        status: 502,
        body: { error: "resend:429:rate_limit_exceeded" },
      });
      expect(waits).toEqual([1000, 1000]);
      expect(receipts()).toHaveLength(0);
      expect((await post(build(), body)).status).toBe(200);
      expect(receipts()).toHaveLength(1);
    });

    it("does not wait for a retry-after longer than the function can afford", async () => {
      const sessionId = await paidSession([{ name: "Mug", unitAmount: 1500 }]);
      outbox.failNext(1, 429, { retryAfterSeconds: 30 });
      expect((await post(build(), await eventFor(sessionId))).status).toBe(502);
      expect(waits).toEqual([]);
    });
  });

  it("answers 503 while Redis is unavailable, sends nothing, then recovers", async () => {
    const sessionId = await paidSession([{ name: "Mug", unitAmount: 1500 }]);
    const body = await eventFor(sessionId);
    const handle = handler();
    bridge.setUnavailable(true);
    try {
      expect(await post(handle, body)).toEqual({ status: 503, body: { error: "store_unavailable" } });
      expect(outbox.emails()).toHaveLength(0);
    } finally {
      bridge.setUnavailable(false);
    }
    expect((await post(handle, body)).body.outcome).toBe("fulfilled");
    expect(receipts()).toHaveLength(1);
  });

  it("answers 503 when Redis cannot be reached at all", async () => {
    const handle = webhookFromEnv({ ...env, UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9" }, () => {});
    const sessionId = await paidSession([{ name: "Mug", unitAmount: 1500 }]);
    expect((await post(handle, await eventFor(sessionId))).status).toBe(503);
    expect(outbox.emails()).toHaveLength(0);
  });
});

describe("bad input over real services", () => {
  it("acknowledges a signed event for a session Stripe does not know, records it and alerts once", async () => {
    const sessionId = await paidSession([{ name: "Mug", unitAmount: 1500 }]);
    const event = JSON.parse(await eventFor(sessionId)) as { id: string; data: { object: { id: string } } };
    // Same shape, a session of another account or mode: Stripe answers 404 to its line items.
    const stranger = `cs_test_${randomUUID().replaceAll("-", "")}`;
    event.data.object.id = stranger;
    const body = JSON.stringify(event);
    const handle = handler();
    expect(await post(handle, body)).toEqual({ status: 200, body: { received: true, outcome: "failed" } });
    expect(await post(handle, body)).toEqual({ status: 200, body: { received: true, outcome: "failed" } });
    expect(outbox.emails().map((email) => [email.to, email.subject])).toEqual([
      // A recent event is trusted as is, so the line items are what Stripe refuses.
      [["owner@shop.example"], "Order not fulfilled: line_items:unknown_session"],
    ]);
    expect(await redis.hget(`${prefix}ledger:${stranger}`, "state")).toBe("failed");
  });

  it("writes no Redis key and sends nothing for a forged or tampered event", async () => {
    const sessionId = await paidSession([{ name: "Mug", unitAmount: 1500 }]);
    const body = await eventFor(sessionId);
    const eventId = (JSON.parse(body) as { id: string }).id;
    const handle = handler();
    const forged = await handle(webhookRequest(body, { secret: "whsec_attacker" }));
    const tampered = await handle(
      webhookRequest(body.replace("jenny@", "mallory@"), { signature: sign(body, secret) }),
    );
    const unsigned = await handle(webhookRequest(body, { signature: null }));
    expect([forged.status, tampered.status, unsigned.status]).toEqual([400, 400, 400]);
    expect(await redis.keys(`${prefix}*${sessionId}`)).toEqual([]);
    expect(eventId).toMatch(/^evt_/);
    expect(outbox.emails()).toHaveLength(0);
  });
});
