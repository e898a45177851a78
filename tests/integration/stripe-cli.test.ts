// The real Stripe CLI against the emulator: `stripe trigger` for the Checkout, refund and dispute events and
// `stripe listen`, no account.
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { type LocalServices, startLocalServices } from "../../dev/local-services.ts";
import type { StripeEmulator } from "../../dev/stripe-emulator/index.ts";
import type { EventObject } from "../../dev/stripe-emulator/objects.ts";
import { webhookFromEnv } from "../../src/app/webhook.ts";
import type { LogFields } from "../../src/lib/log.ts";
import { HANDLED_EVENTS } from "../../src/order/events.ts";
import { redisBackend } from "../support/redis.ts";
import { example } from "../support/stripe-payloads.ts";
import { type CliEnv, cliEnv, findStripeCli, runCli, startListen } from "../support/stripe-cli.ts";
import {
  emulatorClient,
  type Receiver,
  startReceiver,
  startWebhookFunction,
} from "../support/stripe-emulator.ts";

const cli = findStripeCli();
const SECRET = "whsec_cli_integration_secret";
/** Generous ceiling for events and deliveries to show up; polling stops as soon as they do. */
const WAIT = { timeout: 60_000, interval: 50 };

if (!cli) {
  if (process.env.CI) {
    it("needs the Stripe CLI in CI", () => {
      throw new Error("The Stripe CLI is missing: run `npm install --no-save @stripe/cli` after `npm ci`.");
    });
  } else {
    console.warn("Skipping the Stripe CLI tests: install it with `npm install --no-save @stripe/cli`.");
  }
}

describe.skipIf(!cli)("the Stripe CLI against the emulator", () => {
  // The emulator with the Upstash bridge and the outbox beside it, for the shop's own function in the last tests.
  let local: LocalServices;
  let emulator: StripeEmulator;
  let receiver: Receiver;
  let home: CliEnv;
  const stripeCli = cli as string;
  const api = () => ["--api-base", emulator.url, "--api-key", "sk_test_cli_integration"];

  beforeAll(async () => {
    receiver = await startReceiver({ secret: SECRET });
    local = await startLocalServices({
      stripe: {
        webhook: {
          url: receiver.url,
          secret: SECRET,
          events: [...HANDLED_EVENTS, "checkout.session.expired"],
        },
        asyncPaymentDelayMs: 200,
        retryDelaysMs: [50],
      },
      redisBackend,
      env: { STRIPE_WEBHOOK_SECRET: SECRET, LINKSHOP_FULFIL_SESSIONS: "all" },
    });
    emulator = local.stripe;
    home = await cliEnv();
  });

  afterAll(async () => {
    await local?.stop();
    await receiver?.close();
    await home?.remove();
  });

  /** Runs `stripe trigger <event>` and returns the events it caused, once one of type `last` is among them. */
  async function trigger(event: string, last = event): Promise<EventObject[]> {
    const before = emulator.events().length;
    const result = await runCli(stripeCli, ["trigger", event, ...api()], home.env);
    expect(result, result.stderr).toMatchObject({ code: 0 });
    expect(result.stdout).toContain("Trigger succeeded!");
    return vi.waitFor(() => {
      const caused = emulator.events().slice(before);
      if (!types(caused).includes(last))
        throw new Error(`still waiting: ${caused.map((e) => e.type).join(", ")}`);
      return caused;
    }, WAIT);
  }

  /** The verified events the receiver got with `id`. */
  const receivedEvents = async (id: string) => (await receiver.verified()).filter((event) => event.id === id);

  /** What every recipe creates first: its product and its price. */
  const CATALOG = ["product.created", "price.created"];
  /** A delayed method: the PaymentIntent processes while the session completes unpaid. */
  const DELAYED = [
    ...CATALOG,
    "payment_intent.created",
    "payment_intent.processing",
    "checkout.session.completed",
  ];

  const session = (event: EventObject | undefined) =>
    event?.data.object as unknown as Stripe.Checkout.Session;
  const types = (events: EventObject[]) => events.map((event) => event.type);
  /** The one event of `type` among `events`. */
  const ofType = (events: EventObject[], type: string): EventObject => {
    const found = events.filter((event) => event.type === type);
    expect(found, type).toHaveLength(1);
    return found[0] as EventObject;
  };
  const object = <T>(event: EventObject) => event.data.object as unknown as T;

  it("`listen --print-secret` prints the secret the emulator signs with", async () => {
    const result = await runCli(stripeCli, ["listen", "--print-secret", ...api()], home.env);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(SECRET);
  });

  it("`trigger checkout.session.completed` creates product, price and session, then pays it by card", async () => {
    const events = await trigger("checkout.session.completed");
    expect(types(events)).toEqual([
      ...CATALOG,
      "payment_intent.created",
      "charge.succeeded",
      "payment_intent.succeeded",
      "checkout.session.completed",
    ]);
    const paid = session(ofType(events, "checkout.session.completed"));
    expect(Object.keys(paid).sort()).toEqual(Object.keys(example("checkout.session")).sort());
    expect(paid).toMatchObject({
      status: "complete",
      payment_status: "paid",
      mode: "payment",
      amount_total: 3000,
      currency: "usd",
      payment_method_types: ["card"],
      customer_details: {
        email: "stripe@example.com",
        name: "Jenny Rosen",
        address: { line1: "354 Oyster Point Blvd", postal_code: "94080", country: "US" },
      },
    });
    const intent = object<Stripe.PaymentIntent>(ofType(events, "payment_intent.succeeded"));
    const charge = object<Stripe.Charge>(ofType(events, "charge.succeeded"));
    expect(paid.payment_intent).toBe(intent.id);
    expect(intent).toMatchObject({
      amount: 3000,
      currency: "usd",
      status: "succeeded",
      latest_charge: charge.id,
    });
    expect(charge).toMatchObject({
      amount: 3000,
      currency: "usd",
      paid: true,
      payment_intent: intent.id,
      payment_method_details: { type: "card", card: { brand: "visa", last4: "4242" } },
    });
    const delivered = await vi.waitFor(async () => {
      const found = await receivedEvents(ofType(events, "checkout.session.completed").id);
      expect(found).toHaveLength(1);
      return found;
    }, WAIT);
    expect(delivered[0]?.type).toBe("checkout.session.completed");
  });

  it.each([
    {
      event: "checkout.session.async_payment_succeeded",
      outcome: "succeeds",
      charge: "charge.succeeded",
      intent: { type: "payment_intent.succeeded", status: "succeeded" },
      paymentStatus: "paid",
    },
    {
      event: "checkout.session.async_payment_failed",
      outcome: "fails",
      charge: "charge.failed",
      intent: { type: "payment_intent.payment_failed", status: "requires_payment_method" },
      paymentStatus: "unpaid",
    },
  ])(
    "`trigger $event` completes unpaid with a SEPA debit, then $outcome",
    async ({ event, charge, intent, paymentStatus }) => {
      const events = await trigger(event);
      expect(types(events)).toEqual([...DELAYED, charge, intent.type, event]);
      const completed = session(ofType(events, "checkout.session.completed"));
      expect(completed).toMatchObject({
        payment_status: "unpaid",
        status: "complete",
        currency: "eur",
        payment_method_types: ["sepa_debit"],
      });
      expect(session(ofType(events, event))).toMatchObject({
        id: completed.id,
        payment_status: paymentStatus,
      });
      expect(object<Stripe.Charge>(ofType(events, charge))).toMatchObject({
        amount: completed.amount_total,
        currency: "eur",
        payment_intent: completed.payment_intent,
        payment_method_details: { type: "sepa_debit" },
      });
      expect(object<Stripe.PaymentIntent>(ofType(events, intent.type))).toMatchObject({
        id: completed.payment_intent,
        status: intent.status,
      });
    },
  );

  it("`trigger checkout.session.expired` expires an open session", async () => {
    const events = await trigger("checkout.session.expired");
    expect(types(events)).toEqual([...CATALOG, "checkout.session.expired"]);
    expect(session(events[2])).toMatchObject({ status: "expired", payment_status: "unpaid", url: null });
  });

  it("confirm refuses an amount other than the session's total, as Stripe's expected_amount check does", async () => {
    const result = await runCli(
      stripeCli,
      [
        "trigger",
        "checkout.session.completed",
        "--override",
        "payment_page_confirm:expected_amount=2999",
        ...api(),
      ],
      home.env,
    );
    expect(result.code).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toContain("does not match");
  });

  it("`listen` gets each event signed with its secret; the emulator's own delivery stands down meanwhile", async () => {
    const listen = startListen(
      stripeCli,
      ["--events", "checkout.session.completed", "--forward-to", receiver.url, ...api()],
      home.env,
    );
    try {
      await listen.waitFor(/Ready!.*whsec_cli_integration_secret/);
      const events = await trigger("checkout.session.completed");
      const completed = ofType(events, "checkout.session.completed");
      await listen.waitFor(new RegExp(`<--\\s+\\[200\\] POST ${receiver.url} \\[${completed.id}\\]`));
      expect(await receivedEvents(completed.id)).toHaveLength(1);
      // The CLI prints its line just before it reports the answer to the emulator.
      await vi.waitFor(
        () =>
          expect(emulator.deliveries().filter((delivery) => delivery.eventId === completed.id)).toEqual([
            expect.objectContaining({ status: 200, url: receiver.url, attempt: 1 }),
          ]),
        WAIT,
      );

      // Outside --events: the CLI drops it, and the emulator does not deliver it behind the CLI's back.
      const expired = await trigger("checkout.session.expired");
      const expiredEvent = expired[2] as EventObject;
      const later = await trigger("checkout.session.completed");
      await listen.waitFor(
        new RegExp(`\\[200\\] POST \\S+ \\[${ofType(later, "checkout.session.completed").id}\\]`),
      );
      await emulator.idle();
      expect(listen.output()).not.toContain(expiredEvent.id);
      expect(await receivedEvents(expiredEvent.id)).toHaveLength(0);
      expect(emulator.deliveries().filter((delivery) => delivery.eventId === expiredEvent.id)).toEqual([]);
    } finally {
      expect(await listen.stop()).toBe(0);
    }

    // With no CLI connected, the emulator delivers again itself.
    const after = await trigger("checkout.session.completed");
    const afterEvent = ofType(after, "checkout.session.completed");
    await vi.waitFor(async () => expect(await receivedEvents(afterEvent.id)).toHaveLength(1), WAIT);
  });

  /** What the charge.* recipes do first: a PaymentIntent of $1.00 confirmed with a test card. */
  const CARD_PAYMENT = ["payment_intent.created", "charge.succeeded", "payment_intent.succeeded"];

  it("`trigger charge.refunded` pays $1.00 by card, then refunds all of it", async () => {
    const events = await trigger("charge.refunded");
    expect(types(events)).toEqual([...CARD_PAYMENT, "refund.created", "charge.refunded"]);
    const intent = object<Stripe.PaymentIntent>(ofType(events, "payment_intent.succeeded"));
    const refund = object<Stripe.Refund>(ofType(events, "refund.created"));
    const charge = object<Stripe.Charge>(ofType(events, "charge.refunded"));
    expect(intent).toMatchObject({ amount: 100, currency: "usd", description: "(created by Stripe CLI)" });
    expect(refund).toMatchObject({ amount: 100, payment_intent: intent.id, charge: intent.latest_charge });
    expect(charge).toMatchObject({ id: intent.latest_charge, amount_refunded: 100, refunded: true });
    expect(charge.refunds?.data.map((one) => one.id)).toEqual([refund.id]);
  });

  it("`trigger charge.dispute.created` pays with pm_card_createDisputeInquiry, which the cardholder disputes", async () => {
    const events = await trigger("charge.dispute.created");
    expect(types(events)).toEqual([...CARD_PAYMENT, "charge.dispute.created"]);
    const intent = object<Stripe.PaymentIntent>(ofType(events, "payment_intent.succeeded"));
    expect(object<Stripe.Dispute>(ofType(events, "charge.dispute.created"))).toMatchObject({
      amount: 100,
      charge: intent.latest_charge,
      payment_intent: intent.id,
      reason: "general",
      status: "warning_needs_response",
    });
  });

  it("the shop's function acknowledges the CLI's refunds and disputes and does nothing: they are no orders", async () => {
    // Subscribed like the shop's endpoint, on top of the receiver; removed again, so later tests see no extra delivery.
    const fn = await startWebhookFunction();
    const stripe = emulatorClient(emulator.url);
    const endpoint = await stripe.webhookEndpoints.create({
      url: fn.url,
      enabled_events: [...HANDLED_EVENTS],
    });
    const logs: LogFields[] = [];
    fn.serve(
      webhookFromEnv({ ...local.env, STRIPE_WEBHOOK_SECRET: endpoint.secret as string }, (event, fields) =>
        logs.push({ event, ...fields }),
      ),
    );
    try {
      const refunded = ofType(await trigger("charge.refunded"), "charge.refunded");
      const disputed = ofType(await trigger("charge.dispute.created"), "charge.dispute.created");
      await emulator.idle();

      const answers = fn.answers.map(({ eventId, status, body }) => [eventId, status, body]);
      expect(answers).toHaveLength(2);
      expect(answers).toEqual(
        expect.arrayContaining([
          [refunded.id, 200, { received: true, outcome: "ignored" }],
          [disputed.id, 200, { received: true, outcome: "ignored" }],
        ]),
      );
      expect(logs.filter((line) => line.event === "webhook.delivery")).toEqual([
        expect.objectContaining({ outcome: "ignored", reason: "not_this_shop" }),
        expect.objectContaining({ outcome: "ignored", reason: "not_this_shop" }),
      ]);
      expect(local.outbox.emails()).toEqual([]);
      expect(await local.redis.keys(`${local.prefix}*`)).toEqual([]);
    } finally {
      await stripe.webhookEndpoints.del(endpoint.id);
      await fn.close();
    }
  });

  it("a websocket that was never authorised is refused with the message the CLI looks for", async () => {
    const socket = new WebSocket(`${emulator.url.replace("http", "ws")}/stripecli/websocket`, {
      headers: { "Websocket-Id": "cliws_unknown" },
    });
    const body = await new Promise<string>((resolve, reject) => {
      socket.on("unexpected-response", (_request, response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
        response.on("end", () => resolve(`${response.statusCode} ${text}`));
      });
      socket.on("open", () => reject(new Error("the websocket opened")));
    });
    expect(body).toMatch(/^400 .*Unknown WebSocket ID\./);
  });
});
