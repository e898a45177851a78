// Paying a Checkout Session through the API, as `stripe trigger` does: PaymentMethods and payment_pages confirm.
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type StripeEmulator, startStripeEmulator } from "../../dev/stripe-emulator/index.ts";
import { example } from "../support/stripe-payloads.ts";
import { emulatorClient, productWithPrice } from "../support/stripe-emulator.ts";

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  emulator = await startStripeEmulator({ asyncPaymentDelayMs: 10 });
  stripe = emulatorClient(emulator.url);
});

afterAll(async () => {
  await emulator.close();
});

const BILLING = {
  email: "stripe@example.com",
  name: "Jenny Rosen",
  address: { line1: "1 Main St", country: "US" },
};

async function session(currency = "usd", methods?: string[]) {
  const { price } = await productWithPrice(stripe, { name: "myproduct", currency });
  // payment_method_types is what the CLI's SEPA recipes send; this SDK version's types no longer list it.
  const params = {
    mode: "payment",
    line_items: [{ price: price.id, quantity: 2 }],
    success_url: "https://shop.example/thanks",
    ...(methods && { payment_method_types: methods }),
  } as Stripe.Checkout.SessionCreateParams;
  return stripe.checkout.sessions.create(params);
}

/** A card PaymentMethod from one of Stripe's test tokens, paid by the BILLING customer. */
const cardMethod = (token = "tok_visa") =>
  stripe.paymentMethods.create({ type: "card", card: { token }, billing_details: BILLING });

/** A SEPA Direct Debit PaymentMethod for `iban`, paid by the BILLING customer. */
const sepaMethod = (iban: string) =>
  stripe.paymentMethods.create({ type: "sepa_debit", sepa_debit: { iban }, billing_details: BILLING });

/** POST /v1/payment_pages/:id/confirm over HTTP (the SDK has no method for this internal API). */
async function confirm(id: string, form: Record<string, string>) {
  const response = await fetch(`${emulator.url}/v1/payment_pages/${id}/confirm`, {
    method: "POST",
    headers: { authorization: "Bearer sk_test_pages", "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const eventsAbout = (id: string) =>
  emulator.events().filter((event) => (event.data.object as { id?: string }).id === id);

describe("payment methods", () => {
  it("a test card token makes a card PaymentMethod shaped like Stripe's example", async () => {
    const method = await cardMethod();
    expect(Object.keys(method).sort()).toEqual(Object.keys(example("payment_method")).sort());
    expect(method).toMatchObject({ type: "card", card: { brand: "visa", last4: "4242" } });
    expect(method.billing_details).toMatchObject({ email: "stripe@example.com", name: "Jenny Rosen" });
    await expect(stripe.paymentMethods.retrieve(method.id)).resolves.toMatchObject({ id: method.id });
  });

  it("refuses card numbers, unknown tokens, malformed IBANs and other types", async () => {
    await expect(stripe.paymentMethods.create({ type: "card", card: { token: "tok_nope" } })).rejects.toThrow(
      /No such token/,
    );
    await expect(
      stripe.paymentMethods.create({
        type: "card",
        card: { number: "4242424242424242", exp_month: 1, exp_year: 2040 },
      }),
    ).rejects.toThrow(/card\[number\]|Received unknown parameter/);
    await expect(
      stripe.paymentMethods.create({ type: "sepa_debit", sepa_debit: { iban: "nope" } }),
    ).rejects.toThrow("The IBAN you provided is invalid.");
    await expect(stripe.paymentMethods.create({ type: "ideal" })).rejects.toThrow(/card and sepa_debit/);
  });
});

describe("confirming a payment page", () => {
  it("a card pays at once: checkout.session.completed, paid, with the billing details", async () => {
    const created = await session();
    const method = await cardMethod();
    const page = await fetch(`${emulator.url}/v1/payment_pages/${created.id}`, {
      headers: { authorization: "Bearer sk_test_pages" },
    });
    expect(await page.json()).toMatchObject({ id: created.id, status: "open", amount_total: 3000 });

    const confirmed = await confirm(created.id, { payment_method: method.id, expected_amount: "3000" });
    expect(confirmed).toMatchObject({ status: 200, body: { status: "complete", payment_status: "paid" } });
    expect(eventsAbout(created.id).map((event) => event.type)).toEqual(["checkout.session.completed"]);
    const paid = await stripe.checkout.sessions.retrieve(created.id);
    expect(paid.customer_details).toMatchObject({
      email: "stripe@example.com",
      name: "Jenny Rosen",
      address: { line1: "1 Main St", country: "US" },
    });
  });

  it("a SEPA debit completes unpaid, then succeeds or fails by IBAN", async () => {
    for (const [iban, result, status] of [
      ["AT611904300234573201", "checkout.session.async_payment_succeeded", "paid"],
      ["AT861904300235473202", "checkout.session.async_payment_failed", "unpaid"],
    ] as const) {
      const created = await session("eur", ["sepa_debit"]);
      const method = await sepaMethod(iban);
      const confirmed = await confirm(created.id, { payment_method: method.id, expected_amount: "3000" });
      expect(confirmed.body).toMatchObject({ status: "complete", payment_status: "unpaid" });
      await vi.waitFor(() => expect(eventsAbout(created.id)).toHaveLength(2), {
        timeout: 60_000,
        interval: 20,
      });
      const [completed, settled] = eventsAbout(created.id);
      expect(completed?.data.object).toMatchObject({
        payment_status: "unpaid",
        payment_method_types: ["sepa_debit"],
      });
      expect(settled).toMatchObject({ type: result, data: { object: { payment_status: status } } });
    }
  });

  it("refuses an expected_amount other than the total, a method the session does not take, and a paid session", async () => {
    const created = await session();
    const card = await cardMethod();
    const sepa = await sepaMethod("AT611904300234573201");
    expect(await confirm(created.id, { payment_method: card.id, expected_amount: "2999" })).toMatchObject({
      status: 400,
      body: { error: { code: "amount_mismatch", param: "expected_amount" } },
    });
    expect(await confirm(created.id, { payment_method: sepa.id })).toMatchObject({
      status: 400,
      body: { error: { param: "payment_method" } },
    });
    expect(eventsAbout(created.id)).toEqual([]);
    expect((await confirm(created.id, { payment_method: card.id })).status).toBe(200);
    expect(await confirm(created.id, { payment_method: card.id })).toMatchObject({
      status: 400,
      body: { error: { message: "This Checkout Session is already complete." } },
    });
  });
});

describe("the PaymentIntent and Charge behind a paid session", () => {
  /** Every event about the session, its PaymentIntent or its Charges, in the order they were recorded. */
  const paymentEvents = (sessionId: string, intentId: string) =>
    emulator.events().filter((event) => {
      const object = event.data.object as { id?: string; payment_intent?: string };
      return object.id === sessionId || object.id === intentId || object.payment_intent === intentId;
    });

  it("a card: payment_intent.created, charge.succeeded, payment_intent.succeeded, then the session, paid", async () => {
    const created = await session();
    const method = await cardMethod("tok_mastercard");
    await confirm(created.id, { payment_method: method.id, expected_amount: "3000" });
    const paid = await stripe.checkout.sessions.retrieve(created.id);
    expect(paid.payment_intent).toMatch(/^pi_[A-Za-z0-9]{24}$/);
    const intentId = String(paid.payment_intent);
    const events = paymentEvents(created.id, intentId);
    expect(events.map((event) => event.type)).toEqual([
      "payment_intent.created",
      "charge.succeeded",
      "payment_intent.succeeded",
      "checkout.session.completed",
    ]);
    expect(events[0]?.data.object).toMatchObject({ id: intentId, status: "requires_payment_method" });
    expect(events[3]?.data.object).toMatchObject({ payment_intent: intentId, payment_status: "paid" });

    const intent = await stripe.paymentIntents.retrieve(intentId);
    expect(Object.keys(intent).sort()).toEqual(Object.keys(example("payment_intent")).sort());
    // Both show the session's total, paid in test mode by the method given.
    const paidInFull = {
      amount: 3000,
      currency: "usd",
      livemode: false,
      status: "succeeded",
      payment_method: method.id,
    };
    expect(intent).toMatchObject({ ...paidInFull, object: "payment_intent", amount_received: 3000 });
    expect(intent.latest_charge).toMatch(/^ch_/);
    const charge = await stripe.charges.retrieve(String(intent.latest_charge));
    expect(Object.keys(charge).sort()).toEqual(Object.keys(example("charge")).sort());
    expect(charge).toMatchObject({
      ...paidInFull,
      object: "charge",
      amount_captured: 3000,
      paid: true,
      payment_intent: intentId,
      payment_method_details: { type: "card", card: { brand: "mastercard", last4: "4444" } },
    });
    expect(events[1]?.data.object).toEqual(charge);
  });

  it("a delayed method: created and processing before the unpaid session, then the charge's result", async () => {
    for (const [payment, chargeEvent, intentEvent, sessionEvent, intentStatus] of [
      [
        "delayed_success",
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.async_payment_succeeded",
        "succeeded",
      ],
      [
        "delayed_failure",
        "charge.failed",
        "payment_intent.payment_failed",
        "checkout.session.async_payment_failed",
        "requires_payment_method",
      ],
    ] as const) {
      const created = await session();
      // What the hosted page's Pay button does.
      const { session: completed } = emulator.completeSession(created.id, {
        email: "buyer@example.com",
        payment,
      });
      const intentId = String(completed.payment_intent);
      await vi.waitFor(() => expect(paymentEvents(created.id, intentId)).toHaveLength(6), {
        timeout: 60_000,
        interval: 20,
      });
      const events = paymentEvents(created.id, intentId);
      expect(events.map((event) => event.type)).toEqual([
        "payment_intent.created",
        "payment_intent.processing",
        "checkout.session.completed",
        chargeEvent,
        intentEvent,
        sessionEvent,
      ]);
      expect(events[1]?.data.object).toMatchObject({ id: intentId, status: "processing" });
      expect(events[2]?.data.object).toMatchObject({ payment_intent: intentId, payment_status: "unpaid" });

      const intent = await stripe.paymentIntents.retrieve(intentId);
      expect(intent).toMatchObject({ amount: 3000, currency: "usd", status: intentStatus });
      const charge = await stripe.charges.retrieve(String(intent.latest_charge));
      expect(charge).toMatchObject({
        amount: 3000,
        currency: "usd",
        payment_intent: intentId,
        paid: payment === "delayed_success",
        status: payment === "delayed_success" ? "succeeded" : "failed",
        billing_details: { email: "buyer@example.com" },
      });
      if (payment === "delayed_failure") {
        expect(charge.failure_code).toBeTruthy();
        expect(intent.last_payment_error).toMatchObject({ charge: charge.id });
      }
    }
  });

  it("unknown ids are 404 with Stripe's resource_missing error", async () => {
    await expect(stripe.paymentIntents.retrieve("pi_unknown")).rejects.toMatchObject({
      type: "StripeInvalidRequestError",
      statusCode: 404,
      code: "resource_missing",
      message: "No such payment_intent: 'pi_unknown'",
    });
    await expect(stripe.charges.retrieve("ch_unknown")).rejects.toMatchObject({
      type: "StripeInvalidRequestError",
      statusCode: 404,
      code: "resource_missing",
      message: "No such charge: 'ch_unknown'",
    });
  });
});
