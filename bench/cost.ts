/**
 * What an order costs in Upstash commands and Stripe calls, measured over the local services: the Upstash bridge
 * counts commands as Upstash bills them, the Stripe emulator logs every API request it receives.
 */
import { randomUUID } from "node:crypto";
import Stripe from "stripe";
import { createStripeClient } from "../src/adapters/stripe.ts";
import { orderStatusFromEnv } from "../src/app/order-status.ts";
import { webhookFromEnv } from "../src/app/webhook.ts";
import { startLocalServices } from "../dev/local-services.ts";

/** Upstash commands of one order's life, and Stripe calls per order in a mix with failures. */
export interface OrderCosts {
  /** A first delivery, its emails drained after it. */
  firstDeliveryCommands: number;
  /** Stripe's redelivery of the same event. */
  duplicateCommands: number;
  /** The thank-you page asking about a fulfilled order. */
  doneStatusCommands: number;
  /** Stripe API requests per order over `orders` orders, failures and retries included. */
  stripeCallsPerOrder: number;
  orders: number;
  /** What the mix held, for the report. */
  mix: Record<string, number>;
}

/**
 * Runs `orders` orders (default 120) through the webhook and the thank-you page's endpoint: some pages ask before
 * the webhook arrives, some deliveries meet a Stripe failure, an unavailable Redis or a failing Resend, some events
 * are delivered twice. Only the shop's own requests are counted, not the ones that set each order up.
 */
export async function measureOrderCosts(orders = 120): Promise<OrderCosts> {
  const secret = "whsec_bench_cost";
  const local = await startLocalServices({
    env: {
      STRIPE_WEBHOOK_SECRET: secret,
      MERCHANT_EMAIL: "owner@shop.example",
      LINKSHOP_REDIS_PREFIX: `bench-cost:${randomUUID()}:`,
    },
  });
  try {
    const { stripe: emulator, env, bridge, outbox } = local;
    const webhook = webhookFromEnv(env, () => {});
    const status = orderStatusFromEnv(env, () => {});
    const stripe = createStripeClient(env.STRIPE_SECRET_KEY, new URL(emulator.url));
    const product = await stripe.products.create({ name: "Bench print" });
    const price = await stripe.prices.create({ product: product.id, unit_amount: 2500, currency: "usd" });

    const paid = async () => {
      const session = await stripe.checkout.sessions.create({
        mode: "payment",
        line_items: [{ price: price.id, quantity: 1 }],
        success_url: "http://localhost/thanks",
        metadata: { linkshop_id: "bench-print" },
      });
      emulator.completeSession(session.id, { email: `cost-${randomUUID()}@example.com`, payment: "card" });
      const event = emulator.events().find((e) => (e.data.object as { id?: string }).id === session.id);
      return { sessionId: session.id, body: JSON.stringify(event) };
    };
    const deliver = async (body: string) => {
      const signature = Stripe.webhooks.generateTestHeaderString({ payload: body, secret });
      const res = await webhook(
        new Request("http://localhost/api/stripe-webhook", {
          method: "POST",
          headers: { "stripe-signature": signature },
          body,
        }),
      );
      return res.status;
    };
    const page = async (sessionId: string) =>
      (
        await status(new Request(`http://localhost/api/order-status?session_id=${sessionId}`), {
          ip: "203.0.113.9",
        })
      ).status;
    /** Upstash commands `action` cost. */
    const commands = async (action: () => Promise<unknown>) => {
      const before = bridge.commands();
      await action();
      return bridge.commands() - before;
    };

    // One order's life, alone.
    const lone = await paid();
    const firstDeliveryCommands = await commands(() => deliver(lone.body));
    const duplicateCommands = await commands(() => deliver(lone.body));
    const doneStatusCommands = await commands(() => page(lone.sessionId));

    // The mix: only the shop's own requests count, between each order's setup and the next.
    const mix = {
      pageFirst: 0,
      stripeFailure: 0,
      redisDown: 0,
      resendFailure: 0,
      redelivered: 0,
      pageAfter: 0,
    };
    let calls = 0;
    for (let i = 0; i < orders; i++) {
      const { sessionId, body } = await paid();
      const before = emulator.requests().length;
      if (i % 4 === 0) {
        // The customer's page asks before the webhook arrives, and keeps asking.
        mix.pageFirst++;
        for (let poll = 0; poll < 3; poll++) await page(sessionId);
      }
      if (i % 10 === 1) {
        mix.stripeFailure++;
        emulator.failNext(`/v1/checkout/sessions/${sessionId}/line_items`, 500, 2);
        if ((await deliver(body)) === 200) throw new Error("a Stripe failure was answered 200");
      } else if (i % 10 === 2) {
        mix.redisDown++;
        bridge.setUnavailable(true);
        try {
          if ((await deliver(body)) !== 503) throw new Error("an unavailable Redis was not answered 503");
        } finally {
          bridge.setUnavailable(false);
        }
      } else if (i % 10 === 3) {
        // The drain after the answer tries the batch again two seconds later.
        mix.resendFailure++;
        outbox.failNext(1, 503);
      }
      if ((await deliver(body)) !== 200) throw new Error(`order ${i} was not fulfilled`);
      if (i % 3 === 0) {
        mix.redelivered++;
        await deliver(body);
      }
      if (i % 2 === 0) {
        mix.pageAfter++;
        await page(sessionId);
      }
      calls += emulator.requests().length - before;
    }
    const receipts = outbox.emails().filter((email) => email.to[0]?.startsWith("cost-"));
    if (receipts.length !== orders + 1)
      throw new Error(`${receipts.length} receipts for ${orders + 1} orders`);
    return {
      firstDeliveryCommands,
      duplicateCommands,
      doneStatusCommands,
      stripeCallsPerOrder: calls / orders,
      orders,
      mix,
    };
  } finally {
    await local.stop();
  }
}
