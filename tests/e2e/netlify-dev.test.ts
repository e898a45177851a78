/** The deployed shape: a signed event into `netlify dev` (offline), a captured email out. */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalServices, startLocalServices } from "../../dev/local-services.ts";
import { type NetlifyDev, startNetlifyDev } from "../../dev/netlify-dev.ts";
import { freePort } from "../../dev/ports.ts";
import { redisBackend } from "../support/redis.ts";
import { emulatorClient, paidSession } from "../support/stripe-emulator.ts";
import { webhookRequest } from "../support/stripe-payloads.ts";
import { orderNumber } from "../../src/order/number.ts";

const secret = "whsec_netlify_dev_e2e";
let local: LocalServices;
let netlify: NetlifyDev;

beforeAll(async () => {
  local = await startLocalServices({
    redisBackend,
    // Keys of this test's orders, apart from a developer's own `npm start` in the same Redis.
    env: { STRIPE_WEBHOOK_SECRET: secret, LINKSHOP_REDIS_PREFIX: `linkshop-e2e-${randomUUID()}:` },
  });
  // No MERCHANT_EMAIL: the receipt is the only email.
  netlify = await startNetlifyDev({ port: await freePort(), env: local.env });
});

afterAll(async () => {
  await netlify?.stop();
  await local?.stop();
});

describe("stripe-webhook under netlify dev", () => {
  it("turns a signed checkout.session.completed into one captured receipt", async () => {
    const stripe = emulatorClient(local.stripe.url);
    // What a catalog Payment Link copies onto its sessions; the webhook fulfils only these by default.
    const sessionId = await paidSession(
      stripe,
      local.stripe.url,
      [{ name: "Linen apron", unitAmount: 3200 }],
      {
        currency: "eur",
        metadata: { linkshop_id: "linen-apron" },
      },
    );
    const [event] = (await stripe.events.list({ type: "checkout.session.completed", limit: 1 })).data;
    const body = JSON.stringify(event);
    const url = `${netlify.url}/api/stripe-webhook`;

    const first = await fetch(webhookRequest(body, { secret, url }));
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ received: true, outcome: "queued" });
    // The receipt leaves after the answer (context.waitUntil), in the same invocation.
    await expect.poll(() => local.outbox.emails().length, { timeout: 30_000 }).toBe(1);
    const again = await fetch(webhookRequest(body, { secret, url }));
    expect(await again.json()).toEqual({ received: true, outcome: "duplicate" });
    const forged = await fetch(webhookRequest(body, { secret: "whsec_wrong", url }));
    expect(forged.status).toBe(400);

    const emails = local.outbox.emails();
    expect(emails).toHaveLength(1);
    // Shop name, language and support address come from the catalog deployed with the function.
    expect(emails[0]).toMatchObject({
      to: ["jenny@example.com"],
      subject: `Your Trailhead Goods order ${orderNumber(sessionId)}: €32.00`,
      replyTo: ["help@trailhead.example"],
    });
    expect(emails[0]?.text).toContain("1 × Linen apron @ €32.00 = €32.00");
  });
});
