// Refunds and disputes on the emulator: the Refunds and Disputes APIs, Stripe's dispute test cards, the emulator's
// dispute route, the session list by PaymentIntent, and what the shop's own webhook does with their events.
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalServices, startLocalServices } from "../../dev/local-services.ts";
import { type StripeEmulator, startStripeEmulator } from "../../dev/stripe-emulator/index.ts";
import { stripeSessions } from "../../src/adapters/stripe.ts";
import { webhookFromEnv } from "../../src/app/webhook.ts";
import { redisBackend } from "../support/redis.ts";
import { example } from "../support/stripe-payloads.ts";
import {
  emulatorClient,
  paidSession,
  type Receiver,
  startReceiver,
  startWebhookFunction,
  type WebhookFunction,
} from "../support/stripe-emulator.ts";

const SECRET = "whsec_refund_tests";

let emulator: StripeEmulator;
let receiver: Receiver;
let stripe: Stripe;

beforeAll(async () => {
  receiver = await startReceiver({ secret: SECRET });
  emulator = await startStripeEmulator({ webhook: { url: receiver.url, secret: SECRET } });
  stripe = emulatorClient(emulator.url);
});

afterAll(async () => {
  await emulator?.close();
  await receiver?.close();
});

/** A session paid by card for `unitAmount` x `quantity` (minor units, usd), with its PaymentIntent and Charge. */
async function paid(unitAmount = 1500, quantity = 1) {
  const sessionId = await paidSession(stripe, emulator.url, [{ name: "Mug", unitAmount, quantity }]);
  const session = await stripe.checkout.sessions.retrieve(sessionId);
  const intent = await stripe.paymentIntents.retrieve(String(session.payment_intent));
  return { sessionId, intent: intent.id, charge: String(intent.latest_charge) };
}

/** The events recorded about `id` (as data.object.id), oldest first. */
const eventsAbout = (id: string) =>
  emulator.events().filter((event) => (event.data.object as { id?: string }).id === id);

/** The error a rejected SDK call raised, to look at its Stripe fields. */
async function refusal(call: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  const error: unknown = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
  return error as Stripe.errors.StripeError;
}

const keys = (value: object) => Object.keys(value).sort();

/**
 * A PaymentIntent of 2000 cents confirmed with one of Stripe's test PaymentMethods, as the Stripe CLI's charge.*
 * recipes pay (`payment_method_types`, which this SDK's types no longer list, included), and its disputes, if any.
 */
async function payWith(method: string) {
  const params = {
    amount: 2000,
    currency: "usd",
    payment_method_types: ["card"],
    payment_method: method,
    confirm: true,
  } as Stripe.PaymentIntentCreateParams;
  const intent = await stripe.paymentIntents.create(params);
  const { data } = await stripe.disputes.list({ payment_intent: intent.id });
  return { intent, disputes: data };
}

describe("listing Checkout Sessions by PaymentIntent", () => {
  it("finds the one session a PaymentIntent paid, as the shop's findByPaymentIntent asks", async () => {
    const first = await paid();
    const second = await paid();

    const page = await stripe.checkout.sessions.list({ payment_intent: first.intent, limit: 1 });
    expect(page.data.map((session) => session.id)).toEqual([first.sessionId]);
    expect(page.has_more).toBe(false);
    await expect(stripe.checkout.sessions.list({ payment_intent: "pi_unknown" })).resolves.toMatchObject({
      data: [],
    });
    const sessions = stripeSessions(stripe);
    await expect(sessions.findByPaymentIntent(second.intent)).resolves.toMatchObject({
      id: second.sessionId,
      payment_intent: second.intent,
    });
    // A payment made without Checkout (as the Stripe CLI's charge.* recipes make them) has no session.
    const { intent: bare } = await payWith("pm_card_visa");
    expect(bare).toMatchObject({ status: "succeeded", latest_charge: expect.stringMatching(/^ch_/) });
    await expect(sessions.findByPaymentIntent(bare.id)).resolves.toBeUndefined();
  });
});

describe("refunds", () => {
  it("a full refund by payment_intent: the Refund, the refunded Charge, and both events delivered signed", async () => {
    const { intent, charge } = await paid(1500, 2);

    const refund = await stripe.refunds.create({ payment_intent: intent });

    expect(keys(refund)).toEqual(keys(example("refund")));
    expect(refund).toMatchObject({
      object: "refund",
      amount: 3000,
      currency: "usd",
      charge,
      payment_intent: intent,
      status: "succeeded",
      reason: null,
      destination_details: { type: "card" },
    });
    const after = await stripe.charges.retrieve(charge);
    expect(keys(after)).toEqual(keys(example("charge")));
    expect(after).toMatchObject({ amount_refunded: 3000, refunded: true });
    expect(after.refunds?.data.map((one) => one.id)).toEqual([refund.id]);
    await expect(stripe.refunds.retrieve(refund.id)).resolves.toEqual(refund);

    await emulator.idle();
    const [created] = (await receiver.verified("refund.created")).filter(
      (event) => (event.data.object as Stripe.Refund).id === refund.id,
    );
    expect(created?.data.object).toEqual(refund);
    const refunded = (await receiver.verified("charge.refunded")).filter(
      (event) => (event.data.object as Stripe.Charge).id === charge,
    );
    expect(refunded).toHaveLength(1);
    expect(refunded[0]?.data).toMatchObject({
      object: { object: "charge", payment_intent: intent, amount_refunded: 3000, refunded: true },
      previous_attributes: { amount_refunded: 0, refunded: false, refunds: { data: [] } },
    });
    // refund.created comes first, then charge.refunded, in one request.
    const types = emulator.events().filter((event) => event.request.id === refunded[0]?.request?.id);
    expect(types.map((event) => event.type)).toEqual(["refund.created", "charge.refunded"]);
  });

  it("partial refunds by charge, then the rest; more than is left is refused, and so is a refunded charge", async () => {
    const { intent, charge } = await paid(1500, 2);

    const part = await stripe.refunds.create({ charge, amount: 1000, reason: "requested_by_customer" });
    expect(part).toMatchObject({
      amount: 1000,
      charge,
      payment_intent: intent,
      reason: "requested_by_customer",
    });
    expect(await stripe.charges.retrieve(charge)).toMatchObject({ amount_refunded: 1000, refunded: false });
    const [partEvent] = eventsAbout(charge).filter((event) => event.type === "charge.refunded");
    // `refunded` did not change, so it is not among the previous attributes.
    expect(partEvent?.data.previous_attributes).toEqual({ amount_refunded: 0, refunds: { data: [] } });

    const tooMuch = await refusal(stripe.refunds.create({ charge, amount: 2001 }));
    expect(tooMuch).toMatchObject({
      statusCode: 400,
      code: "amount_too_large",
      param: "amount",
      message: "Refund amount ($20.01) is greater than unrefunded amount on charge ($20.00)",
    });

    const rest = await stripe.refunds.create({ payment_intent: intent, charge });
    expect(rest.amount).toBe(2000);
    expect(await stripe.charges.retrieve(charge)).toMatchObject({ amount_refunded: 3000, refunded: true });
    expect(await refusal(stripe.refunds.create({ payment_intent: intent }))).toMatchObject({
      code: "charge_already_refunded",
      message: `Charge ${charge} has already been refunded.`,
    });

    const listed = await stripe.refunds.list({ payment_intent: intent });
    expect(listed.data.map((refund) => refund.id)).toEqual([rest.id, part.id]);
    const ofCharge = await stripe.refunds.list({ charge });
    expect(ofCharge.data.map((refund) => refund.id)).toEqual([rest.id, part.id]);
    expect(eventsAbout(charge).filter((event) => event.type === "charge.refunded")).toHaveLength(2);
  });

  it("refuses unknown ids, a payment without a successful charge, mismatched ids and unknown parameters", async () => {
    const { intent, charge } = await paid();
    const unpaid = await stripe.paymentIntents.create({ amount: 500, currency: "usd" });
    expect(unpaid.status).toBe("requires_payment_method");

    expect(await refusal(stripe.refunds.create({ charge: "ch_unknown" }))).toMatchObject({
      statusCode: 400,
      code: "resource_missing",
      param: "charge",
      message: "No such charge: 'ch_unknown'",
    });
    expect(await refusal(stripe.refunds.create({ payment_intent: "pi_unknown" }))).toMatchObject({
      code: "resource_missing",
      param: "payment_intent",
    });
    expect(await refusal(stripe.refunds.create({}))).toMatchObject({ code: "parameter_missing" });
    expect(await refusal(stripe.refunds.create({ payment_intent: unpaid.id }))).toMatchObject({
      message: `This PaymentIntent (${unpaid.id}) does not have a successful charge to refund.`,
    });
    expect(await refusal(stripe.refunds.create({ charge, payment_intent: unpaid.id }))).toMatchObject({
      param: "payment_intent",
    });
    expect(await refusal(stripe.refunds.create({ payment_intent: intent, amount: 0 }))).toMatchObject({
      param: "amount",
    });
    const unknownParam = { payment_intent: intent, currency: "eur" } as Stripe.RefundCreateParams;
    expect(await refusal(stripe.refunds.create(unknownParam))).toMatchObject({ code: "parameter_unknown" });
    expect(await stripe.charges.retrieve(charge)).toMatchObject({ amount_refunded: 0, refunded: false });
    await expect(stripe.refunds.retrieve("re_unknown")).rejects.toMatchObject({ statusCode: 404 });
  });

  it("updating a refund's metadata sends refund.updated and charge.refund.updated", async () => {
    const { intent } = await paid();
    const refund = await stripe.refunds.create({ payment_intent: intent, amount: 500 });

    const updated = await stripe.refunds.update(refund.id, { metadata: { order_id: "6735" } });

    expect(updated.metadata).toEqual({ order_id: "6735" });
    expect(eventsAbout(refund.id).map((event) => [event.type, event.data.previous_attributes])).toEqual([
      ["refund.created", undefined],
      ["refund.updated", { metadata: {} }],
      ["charge.refund.updated", { metadata: {} }],
    ]);
    const charge = await stripe.charges.retrieve(refund.charge as string);
    expect(charge.refunds?.data[0]?.metadata).toEqual({ order_id: "6735" });
  });
});

describe("disputes", () => {
  it("pm_card_createDispute: the charge succeeds, then a fraud chargeback opens; it can be refunded no more", async () => {
    const { intent, disputes } = await payWith("pm_card_createDispute");

    expect(intent.payment_method).toMatch(/^pm_/);
    expect(intent.payment_method).not.toBe("pm_card_createDispute");
    expect(disputes).toHaveLength(1);
    const [dispute] = disputes as [Stripe.Dispute];
    expect(keys(dispute)).toEqual(keys(example("dispute")));
    expect(dispute).toMatchObject({
      amount: 2000,
      currency: "usd",
      charge: intent.latest_charge,
      payment_intent: intent.id,
      reason: "fraudulent",
      status: "needs_response",
      is_charge_refundable: false,
      payment_method_details: { type: "card", card: { brand: "visa", case_type: "chargeback" } },
    });
    const dueIn = (dispute.evidence_details.due_by ?? 0) - Math.floor(Date.now() / 1000);
    expect(dueIn).toBeGreaterThan(6 * 24 * 3600);
    expect(await stripe.charges.retrieve(String(intent.latest_charge))).toMatchObject({ disputed: true });
    expect(await refusal(stripe.refunds.create({ payment_intent: intent.id }))).toMatchObject({
      code: "charge_disputed",
    });
    const types = emulator
      .events()
      .filter((event) => {
        const object = event.data.object as { id?: string; payment_intent?: string };
        return object.id === intent.id || object.payment_intent === intent.id;
      })
      .map((event) => event.type);
    expect(types).toEqual([
      "payment_intent.created",
      "charge.succeeded",
      "payment_intent.succeeded",
      "charge.dispute.created",
      "charge.dispute.funds_withdrawn",
    ]);

    // Accepting it (close) loses it; a closed dispute cannot be closed again.
    const closed = await stripe.disputes.close(dispute.id);
    expect(closed.status).toBe("lost");
    expect(eventsAbout(dispute.id).at(-1)).toMatchObject({
      type: "charge.dispute.closed",
      data: { previous_attributes: { status: "needs_response" } },
    });
    expect(await refusal(stripe.disputes.close(dispute.id))).toMatchObject({
      code: "dispute_already_closed",
    });
  });

  it("pm_card_createDisputeInquiry: an inquiry, still refundable; winning evidence closes it", async () => {
    const { intent, disputes } = await payWith("pm_card_createDisputeInquiry");
    const [inquiry] = disputes as [Stripe.Dispute];
    expect(inquiry).toMatchObject({
      reason: "general",
      status: "warning_needs_response",
      is_charge_refundable: true,
      payment_method_details: { card: { case_type: "inquiry" } },
    });

    const updated = await stripe.disputes.update(inquiry.id, {
      evidence: { uncategorized_text: "winning_evidence" },
    });

    expect(updated).toMatchObject({
      status: "warning_closed",
      evidence: { uncategorized_text: "winning_evidence" },
      evidence_details: { has_evidence: true, submission_count: 1 },
    });
    expect(eventsAbout(inquiry.id).map((event) => event.type)).toEqual([
      "charge.dispute.created",
      "charge.dispute.updated",
      "charge.dispute.closed",
    ]);
    await expect(stripe.refunds.create({ payment_intent: intent.id })).resolves.toMatchObject({
      amount: 2000,
    });
  });

  /** POST /_emulator/disputes... as `npm run trigger` calls them. */
  async function devRoute(path: string, body: object, headers: Record<string, string> = {}) {
    const response = await fetch(`${emulator.url}/_emulator/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it("the dev route opens a dispute on a session's payment and decides it; Stripe's rules still hold", async () => {
    const { intent, charge } = await paid(900);
    await stripe.refunds.create({ payment_intent: intent, amount: 100 });

    const opened = await devRoute("disputes", { payment_intent: intent });

    expect(opened.status).toBe(200);
    const dispute = opened.body.dispute as Stripe.Dispute;
    expect(dispute).toMatchObject({ charge, amount: 800, reason: "fraudulent", status: "needs_response" });
    expect(emulator.events().find((event) => event.id === opened.body.event_id)).toMatchObject({
      type: "charge.dispute.created",
      data: { object: { id: dispute.id } },
    });
    expect(await devRoute("disputes", { charge })).toMatchObject({
      status: 400,
      body: { error: { message: `Charge ${charge} already has a dispute (${dispute.id}).` } },
    });
    expect(await devRoute(`disputes/${dispute.id}/close`, { status: "maybe" })).toMatchObject({
      status: 400,
    });

    const won = await devRoute(`disputes/${dispute.id}/close`, { status: "won" });

    expect(won.body.dispute).toMatchObject({ id: dispute.id, status: "won" });
    expect(eventsAbout(dispute.id).map((event) => event.type)).toEqual([
      "charge.dispute.created",
      "charge.dispute.funds_withdrawn",
      "charge.dispute.closed",
      "charge.dispute.funds_reinstated",
    ]);
    expect(await devRoute(`disputes/${dispute.id}/close`, { status: "lost" })).toMatchObject({ status: 400 });
    expect(await devRoute("disputes", { payment_intent: "pi_unknown" })).toMatchObject({ status: 400 });
    // Like every dev route, it answers this machine only.
    const foreign = await devRoute("disputes", { charge }, { origin: "https://evil.example" });
    expect(foreign.status).toBe(403);
  });
});

describe("the shop's webhook function, given refunds and disputes of the emulator", () => {
  let local: LocalServices;
  let fn: WebhookFunction;

  beforeAll(async () => {
    fn = await startWebhookFunction();
    // Only the payment events: the function never hears of the sessions, so it must find them through Stripe.
    local = await startLocalServices({
      stripe: {
        webhook: {
          url: fn.url,
          secret: SECRET,
          events: ["charge.refunded", "charge.dispute.created", "charge.dispute.closed"],
        },
      },
      redisBackend,
      env: { STRIPE_WEBHOOK_SECRET: SECRET, MERCHANT_EMAIL: "owner@shop.example" },
    });
    fn.serve(webhookFromEnv(local.env, () => {}));
  });

  afterAll(async () => {
    await local?.stop();
    await fn?.close();
  });

  it("finds the order of a refund and of a dispute through the session list, and records each", async () => {
    const shop = emulatorClient(local.stripe.url);
    const order = async () => {
      const sessionId = await paidSession(shop, local.stripe.url);
      const session = await shop.checkout.sessions.retrieve(sessionId);
      return { sessionId, intent: String(session.payment_intent) };
    };
    const refunded = await order();
    const disputed = await order();

    await shop.refunds.create({ payment_intent: refunded.intent });
    const opened = await fetch(`${local.stripe.url}/_emulator/disputes`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ payment_intent: disputed.intent }),
    });
    expect(opened.status).toBe(200);
    await local.stripe.idle();

    // Delivered concurrently: in either order.
    const answers = fn.answers.map(({ type, status, body }) => [type, status, body]);
    expect(answers.sort()).toEqual([
      ["charge.dispute.created", 200, { received: true, outcome: "fulfilled" }],
      ["charge.refunded", 200, { received: true, outcome: "fulfilled" }],
    ]);
    const state = (sessionId: string) => local.redis.hget(`${local.prefix}ledger:${sessionId}`, "state");
    expect(await state(refunded.sessionId)).toBe("refunded");
    expect(await state(disputed.sessionId)).toBe("disputed");
    expect(local.outbox.emails().filter((email) => email.to.includes("owner@shop.example"))).toHaveLength(2);
  });
});
