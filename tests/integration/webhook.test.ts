/**
 * The webhook over real HTTP to its dependencies: the Stripe SDK against the local Stripe emulator, @upstash/redis
 * against the Upstash bridge in front of a real Redis, and Resend against the local outbox.
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "@upstash/redis";
import type Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { resendBatchSender } from "../../src/adapters/resend.ts";
import { drainMail } from "../../src/fulfilment/mail.ts";
import { stripeLineItems } from "../../src/adapters/stripe.ts";
import { type LocalServices, startLocalServices } from "../../dev/local-services.ts";
import type { Outbox } from "../../dev/outbox.ts";
import type { StripeEmulator } from "../../dev/stripe-emulator/index.ts";
import type { UpstashBridge } from "../../dev/upstash-bridge.ts";
import catalogFile from "../../catalog.json" with { type: "json" };
import { webhookFromEnv } from "../../src/app/webhook.ts";
import { services } from "../../src/app/services.ts";
import { orderStatusDeps } from "../../src/app/order-status.ts";
import { parseCatalog } from "../../src/shop/catalog.ts";
import { readConfig } from "../../src/config.ts";
import { createOrderStatusHandler } from "../../src/order-status/handler.ts";
import type { LogFields } from "../../src/lib/log.ts";
import { createWebhookHandler } from "../../src/webhook/handler.ts";
import { redisBackend } from "../support/redis.ts";
import { sign, webhookRequest } from "../support/stripe-payloads.ts";
import { emulatorClient, type OrderLine, paidSession } from "../support/stripe-emulator.ts";
import { orderNumber } from "../../src/order/number.ts";

const secret = "whsec_integration_secret";
let local: LocalServices;
// The parts of `local` the tests use most, by their usual names.
let emulator: StripeEmulator;
let outbox: Outbox;
let bridge: UpstashBridge;
let redis: Redis;
let env: Record<string, string>;
let prefix: string;
let stripe: Stripe;

beforeAll(async () => {
  local = await startLocalServices({
    stripe: { asyncPaymentDelayMs: 5 },
    redisBackend,
    env: { STRIPE_WEBHOOK_SECRET: secret, MERCHANT_EMAIL: "owner@shop.example" },
  });
  ({ stripe: emulator, outbox, bridge, redis, env, prefix } = local);
  stripe = emulatorClient(emulator.url);
});

afterAll(() => local?.stop());

beforeEach(async () => {
  await outbox.clear();
});

const MUG: OrderLine[] = [{ name: "Mug", unitAmount: 1500 }];

/** A session of `lines` created in the emulator through the SDK, then paid on its hosted page. */
const pay = (lines: OrderLine[], options: Parameters<typeof paidSession>[3] = {}) =>
  paidSession(stripe, emulator.url, lines, options);

/** The event the emulator recorded for the session, exactly as it would deliver it. */
async function eventFor(sessionId: string, type = "checkout.session.completed"): Promise<string> {
  for await (const event of stripe.events.list({ type, limit: 100 })) {
    if ((event.data.object as { id?: string }).id === sessionId) return JSON.stringify(event);
  }
  throw new Error(`no ${type} event for ${sessionId}`);
}

/** A paid one-mug order, its checkout.session.completed as Stripe delivers it, and a webhook to deliver it to. */
async function mugOrder() {
  const sessionId = await pay(MUG);
  return { sessionId, body: await eventFor(sessionId), handle: handler() };
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
    const sessionId = await pay(names.map((name, i) => ({ name, unitAmount: 1000 + i, quantity: 1 })));
    const result = await post(handler(), await eventFor(sessionId));
    expect(result).toEqual({ status: 200, body: { received: true, outcome: "queued" } });
    const [receipt] = receipts();
    for (const name of names) expect(receipt?.text).toContain(name);
    // Sent in one batch request with the notice, under the batch's own key.
    expect(receipt?.idempotencyKey).toMatch(/^linkshop-batch-[0-9a-f-]{36}$/);
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
    const counted = emulatorClient(emulator.url);
    counted.on("request", (event: { path: string }) => requests.push(event.path));
    const source = stripeLineItems(counted);
    for (const [count, calls] of [
      [100, 1],
      [150, 2],
    ] as const) {
      requests.length = 0;
      const sessionId = await pay(
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
    const sessionId = await pay([{ name: "<b>Matcha</b> & tin", unitAmount: 1200, quantity: 3 }], {
      currency: "jpy",
    });
    await post(handler(), await eventFor(sessionId));
    const [receipt] = receipts();
    expect(receipt?.text).toContain("3 × <b>Matcha</b> & tin @ ¥1,200 = ¥3,600");
    expect(receipt?.html).toContain("&lt;b&gt;Matcha&lt;/b&gt; &amp; tin");
    expect(receipt?.html).not.toContain("<b>Matcha");
  });

  it("acknowledges a duplicate delivery without sending again", async () => {
    const { body, handle } = await mugOrder();
    await post(handle, body);
    expect((await post(handle, body)).body.outcome).toBe("duplicate");
    expect(receipts()).toHaveLength(1);
  });

  it("sends exactly one email when 25 deliveries of one event arrive at once", async () => {
    const { body, handle } = await mugOrder();
    const results = await Promise.all(Array.from({ length: 25 }, () => post(handle, body)));
    expect(results.map((r) => r.status)).toEqual(Array.from({ length: 25 }, () => 200));
    expect(results.filter((r) => r.body.outcome === "queued")).toHaveLength(1);
    expect(receipts()).toHaveLength(1);
  });

  it("waits for a delayed payment, then fulfils once on async_payment_succeeded", async () => {
    const sessionId = await pay(MUG, { payment: "delayed_success" });
    const handle = handler();
    expect((await post(handle, await eventFor(sessionId))).body.outcome).toBe("ignored");
    expect(outbox.emails()).toHaveLength(0);
    await emulator.idle();
    const succeeded = await eventFor(sessionId, "checkout.session.async_payment_succeeded");
    expect((await post(handle, succeeded)).body.outcome).toBe("queued");
    expect((await post(handle, succeeded)).body.outcome).toBe("duplicate");
    expect(receipts()).toHaveLength(1);
  });

  it("tells the customer once when a delayed payment fails", async () => {
    const sessionId = await pay(MUG, { payment: "delayed_failure" });
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
    const webhook = createWebhookHandler({
      webhookSecret: secret,
      deps,
      log: () => {},
      drain: () => drainMail(deps.drain, 20_000),
    });
    const sessionId = await pay([{ name: "Becher", unitAmount: 1500, quantity: 2 }], {
      currency: "eur",
    });
    expect(await post(webhook, await eventFor(sessionId))).toEqual({
      status: 200,
      body: { received: true, outcome: "queued" },
    });
    const [receipt] = receipts();
    const number = orderNumber(sessionId);
    expect(receipt?.subject).toBe(`Ihre Bestellung ${number} bei Trailhead Goods: 30,00\u00a0€`);
    expect(receipt?.replyTo).toEqual(["hilfe@laden.example"]);
    expect(receipt?.text).toContain("2 × Becher @ 15,00\u00a0€ = 30,00\u00a0€");
    expect(receipt?.text).toContain(`Bestellnummer: ${number}`);
    expect(receipt?.html).toContain('<html lang="de-DE">');

    const status = createOrderStatusHandler({
      deps: orderStatusDeps(readConfig({ ...env, URL: "https://laden.example" }), () => {}, catalog),
      log: () => {},
    });
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
    const sessionId = await pay(MUG);
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
    const sender = resendBatchSender({ apiKey: "re_integration", from: "Shop <orders@shop.example>" });
    const key = `linkshop-batch-${randomUUID()}`;
    const email = { to: "jenny@example.com", subject: "Your order", html: "<p>1</p>", text: "1" };
    const first = await sender.sendBatch([{ id: "receipt", email }], key);
    expect(first).toEqual({ kind: "sent", ids: [expect.any(String)], refused: [] });
    // Same key, different body.
    expect(await sender.sendBatch([{ id: "receipt", email: { ...email, text: "renamed" } }], key)).toEqual({
      kind: "sent",
      ids: [undefined],
      refused: [],
    });
    expect(outbox.emails()).toHaveLength(1);
  });

  it("ends a batch request that gets no answer in time as failed, for the drain to send again under its key", async () => {
    const sender = resendBatchSender({
      apiKey: "re_integration",
      from: "Shop <orders@shop.example>",
      timeoutMs: 200,
    });
    const hold = outbox.holdNext();
    const email = { to: "jenny@example.com", subject: "Your order", html: "<p>1</p>", text: "1" };
    const outcome = await sender.sendBatch([{ id: "receipt", email }], `linkshop-batch-${randomUUID()}`);
    expect(outcome).toEqual({ kind: "failed", reason: "resend:network:application_error" });
    // Resend may still take a request the client gave up on: why the drain sends it again under the same key.
    await hold.arrived;
    hold.release();
    await expect.poll(() => outbox.emails().length).toBe(1);
  });

  it("refuses a customer email that is not one address before Resend sees it, and alerts the merchant", async () => {
    const logs: ({ event: string } & LogFields)[] = [];
    const sessionId = await pay(MUG, {
      email: "jenny<x>@example.com",
    });
    const result = await post(
      handler((event, fields) => logs.push({ event, ...fields })),
      await eventFor(sessionId),
    );
    expect(result).toEqual({ status: 200, body: { received: true, outcome: "failed" } });
    // Nothing reached the address; the merchant's alert is the only email.
    expect(outbox.emails().map((email) => [email.to, email.subject])).toEqual([
      [["owner@shop.example"], "Order not fulfilled: invalid_customer_email"],
    ]);
    const record = JSON.parse((await redis.hget<string>(`${prefix}ledger:${sessionId}`, "record")) ?? "{}");
    expect(record).toMatchObject({ state: "failed", reason: "invalid_customer_email" });
    expect(JSON.stringify(record)).not.toContain("jenny<x>");
    expect(logs).toContainEqual(expect.objectContaining({ event: "order.failed", level: "error" }));
    expect(JSON.stringify(logs)).not.toContain("jenny");
  });

  it("gives a session without the shop's Payment Link metadata nothing, and acknowledges it", async () => {
    const sessionId = await pay(MUG, { metadata: {} });
    const result = await post(handler(), await eventFor(sessionId));
    expect(result).toEqual({ status: 200, body: { received: true, outcome: "ignored" } });
    expect(outbox.emails()).toHaveLength(0);
    expect(await redis.exists(`${prefix}ledger:${sessionId}`)).toBe(0);
  });
});

describe("failing dependencies over real services", () => {
  it("answers 502 while Stripe fails, sends nothing, and the retry sends exactly one", async () => {
    const { sessionId, body, handle } = await mugOrder();
    // Enough failures to outlast the SDK's own network retry.
    emulator.failNext(`/v1/checkout/sessions/${sessionId}/line_items`, 500, 2);
    expect(await post(handle, body)).toEqual({ status: 502, body: { error: "stripe:500" } });
    expect(outbox.emails()).toHaveLength(0);
    expect(await redis.exists(`${prefix}ledger:${sessionId}`)).toBe(0);
    expect((await post(handle, body)).body.outcome).toBe("queued");
    expect(receipts()).toHaveLength(1);
  });

  it("answers 200 while Resend fails: Stripe is answered first, and the drain sends exactly one", async () => {
    const { sessionId, body, handle } = await mugOrder();
    outbox.failNext(1, 500);
    const draining: Promise<unknown>[] = [];
    const res = await handle(webhookRequest(body, { secret }), { waitUntil: (p) => draining.push(p) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: true, outcome: "queued" });
    // Stripe's redelivery does not depend on Resend: the order is already queued.
    expect((await post(handle, body)).body.outcome).toBe("duplicate");
    // After the answer: Resend's 500, then the same batch two seconds later.
    await Promise.all(draining);
    expect(receipts()).toHaveLength(1);
    expect(await redis.hget(`${prefix}ledger:${sessionId}`, "state")).toBe("fulfilled");
  });

  describe("Resend rate limiting", () => {
    it("honours retry-after on a 429: the drain waits, then sends the same batch once", async () => {
      const sessionId = await pay(MUG);
      outbox.failNext(1, 429, { retryAfterSeconds: 1 });
      expect(await post(handler(), await eventFor(sessionId))).toEqual({
        status: 200,
        body: { received: true, outcome: "queued" },
      });
      expect(receipts()).toHaveLength(1);
      expect(await redis.hget(`${prefix}ledger:${sessionId}`, "state")).toBe("fulfilled");
    });

    it("answers 200 when the wait outlasts the drain's time; the order waits queued and a later drain sends it", async () => {
      const sessionId = await pay(MUG);
      outbox.failNext(1, 429, { retryAfterSeconds: 30 });
      expect((await post(handler(), await eventFor(sessionId))).status).toBe(200);
      expect(receipts()).toHaveLength(0);
      expect(await redis.hget(`${prefix}ledger:${sessionId}`, "state")).toBe("fulfilling");
      // The scheduled drain, half a minute later.
      const { drain } = services(readConfig(env), () => {});
      const later = () => Date.now() + 31_000;
      expect(await drainMail({ ...drain, now: later }, 10_000)).toMatchObject({ sent: 2, fulfilled: 1 });
      expect(receipts()).toHaveLength(1);
    });
  });

  it("answers 503 while Redis is unavailable, sends nothing, then recovers", async () => {
    const { body, handle } = await mugOrder();
    bridge.setUnavailable(true);
    try {
      expect(await post(handle, body)).toEqual({ status: 503, body: { error: "store_unavailable" } });
      expect(outbox.emails()).toHaveLength(0);
    } finally {
      bridge.setUnavailable(false);
    }
    expect((await post(handle, body)).body.outcome).toBe("queued");
    expect(receipts()).toHaveLength(1);
  });

  it("answers 503 when Redis cannot be reached at all", async () => {
    const handle = webhookFromEnv({ ...env, UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9" }, () => {});
    const sessionId = await pay(MUG);
    expect((await post(handle, await eventFor(sessionId))).status).toBe(503);
    expect(outbox.emails()).toHaveLength(0);
  });
});

describe("bad input over real services", () => {
  it("acknowledges a signed event for a session Stripe does not know, records it and alerts once", async () => {
    const sessionId = await pay(MUG);
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
    const sessionId = await pay(MUG);
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
