/**
 * Refunds and disputes through the webhook, with real signatures and the in-memory fakes: what the ledger records,
 * what access to the files becomes, and which notices go out, once each.
 */
import { describe, expect, it } from "vitest";
import { type FulfilmentDeps, retryOrder } from "../../src/fulfilment/fulfil.ts";
import type { SessionPayload } from "../../src/order/model.ts";
import { orderNumber } from "../../src/order/number.ts";
import { fakeDeps, fakeWebhook } from "../support/fakes.ts";
import { filesShop, trailMapsSession } from "../support/trail-maps.ts";
import { checkoutSession, example, stripeEvent } from "../support/stripe-payloads.ts";

const secret = "whsec_test_secret";

function setup(overrides: Partial<FulfilmentDeps> = {}) {
  const fakes = fakeDeps({ shop: filesShop(), ...overrides });
  const { deliver } = fakeWebhook(fakes, secret);
  /** A paid session for the trail maps, fulfilled through the webhook. */
  const fulfilled = async () => {
    const session = trailMapsSession(fakes, { payment_intent: `pi_${Math.random().toString(36).slice(2)}x` });
    expect((await deliver(stripeEvent("checkout.session.completed", session))).body).toMatchObject({
      outcome: "queued",
    });
    expect(fakes.ledger.records.get(session.id)?.state).toBe("fulfilled");
    fakes.mailer.sent.length = 0;
    fakes.sessions.calls = 0;
    return session as typeof session & { payment_intent: string };
  };
  return { ...fakes, deliver, fulfilled };
}

/** A Charge or a Dispute of $9.00 for `paymentIntent`, shaped like Stripe's examples. */
function payment(resource: "charge" | "dispute", paymentIntent: string, fields: Record<string, unknown>) {
  return {
    ...example(resource),
    object: resource,
    amount: 900,
    currency: "usd",
    payment_intent: paymentIntent,
    livemode: false,
    ...fields,
  };
}

const charge = (paymentIntent: string, overrides: Record<string, unknown> = {}) =>
  payment("charge", paymentIntent, {
    id: "ch_3RefundTest0001",
    amount_refunded: 900,
    refunded: true,
    billing_details: { ...(example("charge").billing_details as object), email: "jenny@example.com" },
    receipt_email: null,
    ...overrides,
  });

const dispute = (paymentIntent: string, overrides: Record<string, unknown> = {}) =>
  payment("dispute", paymentIntent, {
    id: "dp_1DisputeTest0001",
    reason: "fraudulent",
    status: "needs_response",
    evidence_details: { due_by: 1_800_000_000, has_evidence: false, past_due: false, submission_count: 0 },
    ...overrides,
  });

describe("a full refund", () => {
  it("cuts the order's downloads, tells the merchant and the customer once, and costs no Stripe call", async () => {
    const { deliver, fulfilled, ledger, mailer, sessions } = setup();
    const session = await fulfilled();
    const event = stripeEvent("charge.refunded", charge(session.payment_intent));
    expect(await deliver(event)).toEqual({ status: 200, body: { received: true, outcome: "fulfilled" } });
    const record = ledger.records.get(session.id);
    expect(record?.state).toBe("refunded");
    expect(record?.refund).toEqual({ amountRefunded: 900, amount: 900, full: true, revoked: true });
    expect(sessions.calls).toBe(0);
    expect(mailer.sent.map((email) => [email.to, email.subject])).toEqual([
      ["owner@shop.example", `[TEST] Refund for order ${orderNumber(session.id)}: $9.00`],
      ["jenny@example.com", `Your refund from Test Shop (order ${orderNumber(session.id)})`],
    ]);
    expect(mailer.sent[0]?.text).toContain("$9.00 of $9.00 refunded");
    expect(mailer.sent[0]?.text).toContain("Its download links no longer work.");
    expect(mailer.sent[0]?.text).toContain(
      `https://dashboard.stripe.com/test/payments/${session.payment_intent}`,
    );
    expect(mailer.sent[1]?.text).toContain("The download links of this order no longer work.");

    // Stripe redelivers the same event, even after Resend forgot the keys: the ledger sends nothing new.
    mailer.expireKeys();
    const requests = mailer.requests;
    expect((await deliver(event)).body).toEqual({ received: true, outcome: "duplicate" });
    expect(mailer.requests).toBe(requests);
    expect(mailer.sent).toHaveLength(2);
  });

  it("is never fulfilled again: not by a redelivered completion, not by the merchant's retry", async () => {
    const { deliver, fulfilled, ledger, mailer, deps } = setup();
    const session = await fulfilled();
    await deliver(stripeEvent("charge.refunded", charge(session.payment_intent)));
    mailer.sent.length = 0;
    expect((await deliver(stripeEvent("checkout.session.completed", session))).body).toEqual({
      received: true,
      outcome: "ignored",
    });
    expect(await retryOrder(session as unknown as SessionPayload, deps)).toEqual({
      outcome: "ignored",
      reason: "order_refunded",
    });
    expect(mailer.sent).toEqual([]);
    expect(ledger.records.get(session.id)?.state).toBe("refunded");
  });

  it("sends no customer confirmation when the shop turned it off", async () => {
    const { deliver, fulfilled, mailer } = setup({
      shop: filesShop({ refundConfirmations: false }),
    });
    const session = await fulfilled();
    await deliver(stripeEvent("charge.refunded", charge(session.payment_intent)));
    expect(mailer.sent.map((email) => email.to)).toEqual(["owner@shop.example"]);
  });
});

describe("a partial refund", () => {
  it("keeps access by default, and notifies once per refunded amount", async () => {
    const { deliver, fulfilled, ledger, mailer } = setup();
    const session = await fulfilled();
    const partial = charge(session.payment_intent, { amount_refunded: 300, refunded: false });
    expect((await deliver(stripeEvent("charge.refunded", partial))).status).toBe(200);
    expect(ledger.records.get(session.id)?.state).toBe("fulfilled");
    expect(mailer.sent[0]?.text).toContain("$3.00 of $9.00 refunded");
    expect(mailer.sent[0]?.text).toContain("Its download links keep working.");
    // A second partial refund is a new event with a new amount: a new notice.
    await deliver(stripeEvent("charge.refunded", { ...partial, amount_refunded: 600 }));
    expect(mailer.sent.filter((email) => email.to === "owner@shop.example")).toHaveLength(2);
  });

  it("cuts access when the catalog says partial refunds do", async () => {
    const { deliver, fulfilled, ledger } = setup({
      shop: filesShop({ downloads: { expiresInDays: 30, limit: 5, revokeOnPartialRefund: true } }),
    });
    const session = await fulfilled();
    await deliver(
      stripeEvent(
        "charge.refunded",
        charge(session.payment_intent, { amount_refunded: 300, refunded: false }),
      ),
    );
    expect(ledger.records.get(session.id)?.state).toBe("refunded");
  });
});

describe("a dispute", () => {
  it("suspends the downloads while open, tells the merchant the reason and due date, and restores them when won", async () => {
    const { deliver, fulfilled, ledger, mailer } = setup();
    const session = await fulfilled();
    await deliver(stripeEvent("charge.dispute.created", dispute(session.payment_intent)));
    expect(ledger.records.get(session.id)?.state).toBe("disputed");
    expect(mailer.sent).toHaveLength(1);
    expect(mailer.sent[0]?.subject).toBe(`[TEST] Dispute opened for order ${orderNumber(session.id)}: $9.00`);
    expect(mailer.sent[0]?.text).toContain("Reason: fraudulent");
    expect(mailer.sent[0]?.text).toContain("Evidence due by: January 15, 2027");
    expect(mailer.sent[0]?.text).toContain("https://dashboard.stripe.com/test/disputes/dp_1DisputeTest0001");

    await deliver(stripeEvent("charge.dispute.closed", dispute(session.payment_intent, { status: "won" })));
    expect(ledger.records.get(session.id)?.state).toBe("fulfilled");
    expect(mailer.sent[1]?.subject).toBe(`[TEST] Dispute won for order ${orderNumber(session.id)}: $9.00`);
    expect(mailer.sent[1]?.text).toContain("The order's download links work again.");
  });

  it("keeps the downloads cut when lost, and tells the merchant once however often Stripe redelivers", async () => {
    const { deliver, fulfilled, ledger, mailer } = setup();
    const session = await fulfilled();
    const opened = stripeEvent("charge.dispute.created", dispute(session.payment_intent));
    const lost = stripeEvent("charge.dispute.closed", dispute(session.payment_intent, { status: "lost" }));
    for (const event of [opened, opened, lost, lost]) {
      // Each redelivery comes after Resend forgot the keys: only the ledger stops a second notice.
      mailer.expireKeys();
      expect((await deliver(event)).status).toBe(200);
    }
    expect(ledger.records.get(session.id)?.state).toBe("disputed");
    expect(ledger.records.get(session.id)?.dispute).toMatchObject({ status: "lost", previous: "fulfilled" });
    expect(mailer.sent.map((email) => email.subject)).toEqual([
      `[TEST] Dispute opened for order ${orderNumber(session.id)}: $9.00`,
      `[TEST] Dispute lost for order ${orderNumber(session.id)}: $9.00`,
    ]);
  });
});

describe("finding the order", () => {
  it("asks Stripe once for an order fulfilled before the ledger knew its payment", async () => {
    const { deliver, sessions, ledger, mailer } = setup();
    const session = checkoutSession({ payment_intent: "pi_OlderOrder0001" });
    sessions.sessions.set(session.id, structuredClone(session) as SessionPayload);
    await deliver(stripeEvent("charge.refunded", charge("pi_OlderOrder0001")));
    expect(sessions.calls).toBe(1);
    expect(ledger.records.get(session.id)?.state).toBe("refunded");
    expect(mailer.sent.map((email) => email.to)).toContain("owner@shop.example");
  });

  it("ignores a payment that is not one of the shop's orders, with 200 and nothing sent", async () => {
    const { deliver, ledger, mailer } = setup();
    expect(await deliver(stripeEvent("charge.refunded", charge("pi_SomeoneElse0001")))).toEqual({
      status: 200,
      body: { received: true, outcome: "ignored" },
    });
    expect(await deliver(stripeEvent("charge.dispute.created", dispute("pi_SomeoneElse0001")))).toMatchObject(
      {
        status: 200,
        body: { outcome: "ignored" },
      },
    );
    expect(ledger.records.size).toBe(0);
    expect(mailer.sent).toEqual([]);
  });

  it("ignores a charge without a PaymentIntent (no Payment Link makes one) and records an unusable one", async () => {
    const { deliver, ledger, mailer } = setup();
    expect(
      (await deliver(stripeEvent("charge.refunded", charge("pi_x", { payment_intent: null })))).body,
    ).toEqual({
      received: true,
      outcome: "ignored",
    });
    const hostile = charge("pi_x", { currency: "<b>" });
    expect((await deliver(stripeEvent("charge.refunded", hostile))).body).toEqual({
      received: true,
      outcome: "failed",
    });
    expect([...ledger.records.values()].map((record) => record.reason)).toEqual(["invalid_currency"]);
    expect(mailer.sent.map((email) => email.to)).toEqual(["owner@shop.example"]);
  });
});
