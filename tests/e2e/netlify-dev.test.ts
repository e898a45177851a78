/** The deployed shape: a signed event into `netlify dev` (offline), a captured email out. */
import { join } from "node:path";
import { rm } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NetlifyDev, startNetlifyDev } from "../../dev/netlify-dev.ts";
import { type Outbox, startOutbox } from "../../dev/outbox.ts";
import { freePort } from "../../dev/ports.ts";
import { type StripeEmulator, startStripeEmulator } from "../../dev/stripe-emulator/index.ts";
import { startUpstashBridge, type UpstashBridge } from "../../dev/upstash-bridge.ts";
import { deleteKeys } from "../support/e2e.ts";
import { redisBackend } from "../support/redis.ts";
import { webhookRequest } from "../support/stripe-payloads.ts";
import { orderNumber } from "../../src/order/number.ts";

const secret = "whsec_netlify_dev_e2e";
const apiKey = "sk_test_netlify_dev_e2e";
let emulator: StripeEmulator;
let outbox: Outbox;
const outboxDir = join(tmpdir(), `linkshop-outbox-${randomUUID()}`);
let bridge: UpstashBridge;
let netlify: NetlifyDev;
// Keys of this test's orders, apart from a developer's own `npm start` in the same Redis.
const prefix = `linkshop-e2e-${randomUUID()}:`;

beforeAll(async () => {
  [emulator, outbox, bridge] = await Promise.all([
    startStripeEmulator({ port: 0 }),
    startOutbox({ port: 0, dir: outboxDir }),
    startUpstashBridge({ token: "e2e-token", port: 0, backend: redisBackend, onWarning: () => {} }),
  ]);
  netlify = await startNetlifyDev({
    port: await freePort(),
    env: {
      STRIPE_SECRET_KEY: apiKey,
      STRIPE_WEBHOOK_SECRET: secret,
      STRIPE_API_BASE: emulator.url,
      UPSTASH_REDIS_REST_URL: bridge.url,
      UPSTASH_REDIS_REST_TOKEN: bridge.token,
      RESEND_API_KEY: "re_e2e",
      RESEND_BASE_URL: outbox.url,
      EMAIL_FROM: "Fern & Fig <orders@shop.example>",
      LINKSHOP_REDIS_PREFIX: prefix,
    },
  });
});

afterAll(async () => {
  await netlify?.stop();
  await deleteKeys(prefix);
  await Promise.all([
    emulator?.close(),
    outbox?.close().then(() => rm(outboxDir, { recursive: true, force: true })),
    bridge?.close(),
  ]);
});

describe("stripe-webhook under netlify dev", () => {
  it("turns a signed checkout.session.completed into one captured receipt", async () => {
    const stripe = new Stripe(apiKey, {
      host: "127.0.0.1",
      port: new URL(emulator.url).port,
      protocol: "http",
    });
    const product = await stripe.products.create({ name: "Linen apron" });
    const price = await stripe.prices.create({ product: product.id, unit_amount: 3200, currency: "eur" });
    const session = await stripe.checkout.sessions.create({
      mode: "payment",
      line_items: [{ price: price.id, quantity: 1 }],
      success_url: "http://localhost:8888/thanks",
      // What a catalog Payment Link copies onto its sessions; the webhook fulfils only these by default.
      metadata: { linkshop_id: "linen-apron" },
    });
    await fetch(`${emulator.url}/_emulator/checkout/sessions/${session.id}/complete`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "jenny@example.com", payment: "card" }),
    });
    const [event] = (await stripe.events.list({ type: "checkout.session.completed", limit: 1 })).data;
    const body = JSON.stringify(event);
    const url = `${netlify.url}/api/stripe-webhook`;

    const first = await fetch(webhookRequest(body, { secret, url }));
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ received: true, outcome: "fulfilled" });
    const again = await fetch(webhookRequest(body, { secret, url }));
    expect(await again.json()).toEqual({ received: true, outcome: "duplicate" });
    const forged = await fetch(webhookRequest(body, { secret: "whsec_wrong", url }));
    expect(forged.status).toBe(400);

    const emails = outbox.emails();
    expect(emails).toHaveLength(1);
    // Shop name, language and support address come from the catalog deployed with the function.
    expect(emails[0]).toMatchObject({
      to: ["jenny@example.com"],
      subject: `Your Trailhead Goods order ${orderNumber(session.id)}: €32.00`,
      replyTo: ["help@trailhead.example"],
    });
    expect(emails[0]?.text).toContain("1 × Linen apron @ €32.00 = €32.00");
  });
});
