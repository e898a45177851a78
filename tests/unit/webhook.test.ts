import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config.ts";
import { UpstreamError } from "../../src/lib/errors.ts";
import { CLAIM_TTL_SECONDS, resendReceipt, retryOrder } from "../../src/fulfilment/fulfil.ts";
import { IDEMPOTENCY_WINDOW_MS } from "../../src/fulfilment/mail.ts";
import { sessionKey } from "../../src/order/session.ts";
import type { FulfilmentDeps } from "../../src/fulfilment/fulfil.ts";
import type { LineItemPayload, SessionPayload } from "../../src/order/model.ts";
import {
  createWebhookHandler,
  SIGNATURE_TOLERANCE_SECONDS,
  signatureTimestamp,
} from "../../src/webhook/handler.ts";
import { fakeDeps, fakeWebhook, memoryLog } from "../support/fakes.ts";
import { checkoutSession, lineItem, sign, stripeEvent, webhookRequest } from "../support/stripe-payloads.ts";
import { orderNumber } from "../../src/order/number.ts";

const secret = "whsec_test_secret";

function setup(overrides: Partial<FulfilmentDeps> = {}) {
  const fakes = fakeDeps(overrides);
  const { handle, deliver } = fakeWebhook(fakes, secret);
  const paidSession = (overrides: Record<string, unknown> = {}) => {
    const session = checkoutSession(overrides);
    fakes.sessions.sessions.set(session.id, structuredClone(session) as never);
    fakes.lineItems.items[session.id] = [
      lineItem({ name: "Ceramic mug", unitAmount: 1500, quantity: 2 }),
    ] as unknown as LineItemPayload[];
    return session;
  };
  return { ...fakes, handle, deliver, paidSession };
}

describe("signature verification", () => {
  const body = JSON.stringify(stripeEvent("checkout.session.completed", checkoutSession()));
  const now = Math.floor(Date.now() / 1000);

  it.each([
    ["no Stripe-Signature header", webhookRequest(body, { signature: null }), "missing_signature"],
    ["a garbage header", webhookRequest(body, { signature: "garbage" }), "invalid_signature"],
    ["another endpoint's secret", webhookRequest(body, { secret: "whsec_other" }), "invalid_signature"],
    [
      "a stale timestamp",
      webhookRequest(body, { secret, timestamp: now - 301 }),
      "timestamp_out_of_tolerance",
    ],
    [
      "a timestamp far in the future (t=9999999999)",
      webhookRequest(body, { secret, timestamp: 9_999_999_999 }),
      "timestamp_out_of_tolerance",
    ],
    [
      "a header without t=",
      webhookRequest(body, { signature: sign(body, secret).replace(/^t=\d+,/, "") }),
      "invalid_signature",
    ],
    ["an empty body", webhookRequest("", { secret }), "empty_body"],
    ["a signed body that is not JSON", webhookRequest("not json", { secret }), "invalid_json"],
    ["a signed JSON value that is not an event", webhookRequest("[1,2]", { secret }), "not_an_event"],
  ])("rejects %s with 400 and changes nothing", async (_, request, reason) => {
    const { handle, store, mailer, lineItems, logs } = setup();
    const res = await handle(request);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: reason });
    expect(store.values.size).toBe(0);
    expect(mailer.sent).toHaveLength(0);
    expect(lineItems.calls).toBe(0);
    expect(logs).toEqual([
      expect.objectContaining({ event: "webhook.delivery", outcome: "rejected", reason }),
    ]);
  });

  describe(`a signed timestamp more than ${SIGNATURE_TOLERANCE_SECONDS} s from the clock, either way`, () => {
    // The handler's clock, pinned: each timestamp is exactly this far from it.
    const nowMs = Date.parse("2026-03-02T09:00:00.750Z");
    const nowS = Math.floor(nowMs / 1000);
    const pinned = () => {
      const fakes = setup();
      const handle = createWebhookHandler({
        webhookSecret: secret,
        deps: fakes.deps,
        log: fakes.deps.log,
        now: () => nowMs,
      });
      return { ...fakes, handle };
    };

    it.each([
      ["301 s ahead", nowS + 301],
      ["a day ahead", nowS + 86_400],
      ["301 s behind", nowS - 301],
    ])("is refused when %s, with nothing parsed, stored or sent", async (_, timestamp) => {
      const { handle, paidSession, store, ledger, mailer, lineItems, sessions, logs } = pinned();
      const event = stripeEvent("checkout.session.completed", paidSession());
      const res = await handle(webhookRequest(JSON.stringify(event), { secret, timestamp }));
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: "timestamp_out_of_tolerance" });
      expect([
        store.values.size,
        ledger.records.size,
        mailer.requests,
        lineItems.calls,
        sessions.calls,
      ]).toEqual([0, 0, 0, 0, 0]);
      // Refused before the event was read: the log line names no event.
      expect(logs).toEqual([
        expect.objectContaining({
          event: "webhook.delivery",
          outcome: "rejected",
          reason: "timestamp_out_of_tolerance",
        }),
      ]);
      expect(logs[0]).not.toHaveProperty("eventId");
    });

    it.each([
      ["300 s ahead", nowS + 300],
      ["just now", nowS],
      ["300 s behind", nowS - 300],
    ])("is accepted when %s", async (_, timestamp) => {
      const { handle, paidSession } = pinned();
      const event = stripeEvent("checkout.session.completed", paidSession());
      const res = await handle(webhookRequest(JSON.stringify(event), { secret, timestamp }));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ received: true, outcome: "queued" });
    });

    it("reads the t= Stripe's library signs: the last one, and only plain digits", async () => {
      expect(signatureTimestamp(`t=${nowS},v1=abc,v0=def`)).toBe(nowS);
      expect(signatureTimestamp(`t=1,v1=abc,t=${nowS}`)).toBe(nowS);
      expect(signatureTimestamp(`t=${nowS},v1=abc,t`)).toBeUndefined();
      expect(signatureTimestamp("t=abc,v1=abc")).toBeUndefined();
      expect(signatureTimestamp("t=-5,v1=abc")).toBeUndefined();
      expect(signatureTimestamp("v1=abc")).toBeUndefined();
      // A stale t= first and a future one last: Stripe signs the last, so that is the one checked.
      const { handle } = pinned();
      const event = JSON.stringify(stripeEvent("checkout.session.completed", checkoutSession()));
      const future = sign(event, secret, nowS + 3600);
      const res = await handle(webhookRequest(event, { signature: `t=${nowS},${future}` }));
      expect(await res.json()).toEqual({ error: "timestamp_out_of_tolerance" });
    });

    it("refuses a non-numeric t= whose signature Stripe's library would accept (it reads it as NaN)", async () => {
      const { handle, ledger, mailer } = pinned();
      const event = JSON.stringify(stripeEvent("checkout.session.completed", checkoutSession()));
      // What a holder of the secret could sign: `${parseInt("never")}.${payload}`, with no timestamp to expire.
      const v1 = createHmac("sha256", secret).update(`NaN.${event}`).digest("hex");
      const res = await handle(webhookRequest(event, { signature: `t=never,v1=${v1}` }));
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: "invalid_signature" });
      expect([ledger.records.size, mailer.requests]).toEqual([0, 0]);
    });
  });

  it("rejects a body changed after signing", async () => {
    const { handle, store } = setup();
    const signature = sign(body, secret);
    const res = await handle(webhookRequest(body.replace("3000", "1"), { signature }));
    expect(res.status).toBe(400);
    expect(store.values.size).toBe(0);
  });

  it("verifies the raw bytes, not re-serialised JSON", async () => {
    const { handle } = setup();
    const spaced = JSON.stringify(JSON.parse(body), null, 3);
    expect((await handle(webhookRequest(spaced, { secret }))).status).toBe(200);
  });
});

describe("request limits", () => {
  it("answers 405 to anything but POST", async () => {
    const { handle } = setup();
    const res = await handle(new Request("http://localhost/api/stripe-webhook"));
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
  });

  it("answers 413 from Content-Length without reading the body", async () => {
    const { handle } = setup();
    const res = await handle(
      new Request("http://localhost/api/stripe-webhook", {
        method: "POST",
        headers: { "content-length": String(2 * 1024 * 1024) },
        body: "{}",
      }),
    );
    expect(res.status).toBe(413);
  });

  it("answers 413 to an oversized streamed body, pulling no more than the limit", async () => {
    const { handle } = setup();
    let pulled = 0;
    const chunk = new Uint8Array(64 * 1024);
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    // `duplex` is required by Node for streamed bodies but missing from the DOM typings.
    const init = { method: "POST", body: stream, duplex: "half" } as RequestInit;
    const req = new Request("http://localhost/api/stripe-webhook", init);
    const res = await handle(req);
    expect(res.status).toBe(413);
    expect(pulled).toBeLessThan(2 * 1024 * 1024);
  });
});

describe("misconfiguration", () => {
  const configError = new ConfigError(["RESEND_API_KEY"], new Map());

  it("answers 500 to a verified event and logs which variable is missing", async () => {
    const { entries, log } = memoryLog();
    const handle = createWebhookHandler({ webhookSecret: secret, deps: configError, log });
    const event = stripeEvent("checkout.session.completed", checkoutSession());
    const res = await handle(webhookRequest(JSON.stringify(event), { secret }));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: "misconfigured" });
    expect(entries[0]).toEqual({
      event: "config.invalid",
      message: "Missing RESEND_API_KEY (see .env.example)",
    });
  });

  it("still answers 400 to a bad signature when the secret is known", async () => {
    const { log } = memoryLog();
    const handle = createWebhookHandler({ webhookSecret: secret, deps: configError, log });
    expect((await handle(webhookRequest("{}", { signature: "garbage" }))).status).toBe(400);
  });

  it("answers 500 when the signing secret itself is missing", async () => {
    const { log } = memoryLog();
    const handle = createWebhookHandler({ webhookSecret: undefined, deps: configError, log });
    expect((await handle(webhookRequest("{}", { signature: "garbage" }))).status).toBe(500);
  });
});

describe("fulfilment", () => {
  it("sends the receipt and the merchant notice as two idempotent requests and records the order", async () => {
    const { deliver, paidSession, mailer, store, ledger, sessions, clock } = setup();
    const session = paidSession();
    const event = stripeEvent("checkout.session.completed", session);
    expect(await deliver(event)).toEqual({ status: 200, body: { received: true, outcome: "queued" } });
    expect(mailer.sent.map((email) => [email.to, email.idempotencyKey])).toEqual([
      ["jenny@example.com", `linkshop-receipt-${session.id}`],
      ["owner@shop.example", `linkshop-notice-${session.id}`],
    ]);
    expect(mailer.sent[0]?.text).toContain("2 × Ceramic mug @ $15.00 = $30.00");
    expect(store.values.size).toBe(0);
    expect(ledger.records.get(session.id)).toEqual({
      sessionId: session.id,
      state: "fulfilled",
      reason: null,
      createdAt: clock.now,
      updatedAt: clock.now,
      fulfilledAt: clock.now,
      by: "webhook",
      attempts: 1,
      sendingSince: clock.now,
      emails: { receipt: mailer.sent[0]?.id, notice: mailer.sent[1]?.id },
      // Nothing of the order waits in the mail queue any more.
      queued: [],
      amount: 3000,
      currency: "usd",
      livemode: false,
      items: [{ name: "Ceramic mug", quantity: 2 }],
      maskedEmail: "j***@example.com",
      // How a refund or dispute of this payment finds the order without asking Stripe.
      paymentIntent: session.payment_intent,
    });
    expect(JSON.stringify([...ledger.records])).not.toMatch(/jenny@|Jenny|Rosen/);
    // Stripe's copy of "fulfilled", which survives losing Redis.
    expect(sessions.sessions.get(session.id)?.metadata).toMatchObject({
      linkshop_fulfilled_at: new Date(clock.now).toISOString(),
      linkshop_order: orderNumber(session.id),
    });
  });

  it("acknowledges a redelivered event without work", async () => {
    const { deliver, paidSession, mailer, lineItems } = setup();
    const event = stripeEvent("checkout.session.completed", paidSession());
    await deliver(event);
    expect(await deliver(event)).toEqual({ status: 200, body: { received: true, outcome: "duplicate" } });
    expect(mailer.sent).toHaveLength(2);
    expect(lineItems.calls).toBe(1);
  });

  it("queues once when concurrent deliveries race; the others get 200 duplicate", async () => {
    const { deliver, paidSession, mailer, ledger } = setup();
    const session = paidSession();
    const event = stripeEvent("checkout.session.completed", session);
    const results = await Promise.all(Array.from({ length: 20 }, () => deliver(event)));
    expect(results.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 200));
    expect(results.filter((r) => r.body.outcome === "queued")).toHaveLength(1);
    expect(results.filter((r) => r.body.outcome === "duplicate")).toHaveLength(19);
    expect(mailer.sent.filter((email) => email.to === "jenny@example.com")).toHaveLength(1);
    expect(ledger.records.get(session.id)?.state).toBe("fulfilled");
  });

  it("waits on an unpaid completion and fulfils on async_payment_succeeded, once", async () => {
    const { deliver, paidSession, mailer } = setup();
    const session = paidSession({ payment_status: "unpaid" });
    const completed = await deliver(stripeEvent("checkout.session.completed", session));
    expect(completed).toEqual({ status: 200, body: { received: true, outcome: "ignored" } });
    expect(mailer.sent).toHaveLength(0);
    const succeeded = { ...session, payment_status: "paid" };
    expect(
      (await deliver(stripeEvent("checkout.session.async_payment_succeeded", succeeded))).body.outcome,
    ).toBe("queued");
    expect(
      (await deliver(stripeEvent("checkout.session.async_payment_succeeded", succeeded))).body.outcome,
    ).toBe("duplicate");
    expect(mailer.sent.filter((email) => email.to === "jenny@example.com")).toHaveLength(1);
  });

  it("fulfils a session once even when it arrives in two different events", async () => {
    const { deliver, paidSession, mailer } = setup();
    const session = paidSession();
    await deliver(stripeEvent("checkout.session.completed", session));
    const second = await deliver(stripeEvent("checkout.session.async_payment_succeeded", session));
    expect(second.body.outcome).toBe("duplicate");
    expect(mailer.sent).toHaveLength(2);
  });

  it("notifies only the merchant when the session has no customer email", async () => {
    const { deliver, paidSession, mailer, logs } = setup();
    await deliver(stripeEvent("checkout.session.completed", paidSession({ customer_details: null })));
    expect(mailer.sent.map((email) => email.to)).toEqual(["owner@shop.example"]);
    expect(logs.findLast((entry) => entry.event === "webhook.delivery")).toMatchObject({
      outcome: "queued",
      reason: "emails_queued",
    });
  });

  it("ignores sessions in setup mode, expired sessions and other events with 200", async () => {
    const { deliver, ledger, mailer } = setup();
    for (const event of [
      stripeEvent(
        "checkout.session.completed",
        checkoutSession({ mode: "setup", payment_status: "no_payment_required" }),
      ),
      stripeEvent(
        "checkout.session.expired",
        checkoutSession({ status: "expired", payment_status: "unpaid" }),
      ),
      stripeEvent("invoice.paid", { object: "invoice", id: "in_1" }),
    ]) {
      expect(await deliver(event)).toEqual({ status: 200, body: { received: true, outcome: "ignored" } });
    }
    expect(ledger.records.size).toBe(0);
    expect(mailer.sent).toHaveLength(0);
  });
});

describe("failed delayed payments", () => {
  it("emails the customer once that the payment failed", async () => {
    const { deliver, mailer, lineItems } = setup();
    const session = checkoutSession({ payment_status: "unpaid", amount_total: 999, currency: "eur" });
    await deliver(stripeEvent("checkout.session.async_payment_failed", session));
    await deliver(stripeEvent("checkout.session.async_payment_failed", session));
    expect(mailer.sent.map((email) => [email.to, email.subject])).toEqual([
      ["jenny@example.com", "Your Test Shop payment did not go through"],
    ]);
    expect(mailer.sent[0]?.text).toContain("€9.99");
    expect(lineItems.calls).toBe(0);
  });
});

describe("failing dependencies", () => {
  it("answers 502 when Stripe fails, releases the claims, and the retry fulfils once", async () => {
    const { deliver, paidSession, mailer, lineItems, store } = setup();
    const event = stripeEvent("checkout.session.completed", paidSession());
    lineItems.fail = true;
    expect(await deliver(event)).toEqual({ status: 502, body: { error: "stripe:500" } });
    expect(mailer.sent).toHaveLength(0);
    expect(store.values.size).toBe(0);
    lineItems.fail = false;
    expect((await deliver(event)).body.outcome).toBe("queued");
    expect(mailer.sent).toHaveLength(2);
  });

  it("answers 200 when Resend fails: the order waits in the queue, and later drains send it exactly once", async () => {
    const { deliver, paidSession, mailer, ledger, clock, drain } = setup();
    const session = paidSession();
    const event = stripeEvent("checkout.session.completed", session);
    for (let i = 0; i < 4; i++)
      mailer.failures.push(new UpstreamError("resend", "resend:500:internal_server_error"));
    expect(await deliver(event)).toEqual({ status: 200, body: { received: true, outcome: "queued" } });
    expect(mailer.sent).toHaveLength(0);
    expect(ledger.records.get(session.id)).toMatchObject({
      state: "fulfilling",
      queued: ["receipt", "notice"],
    });
    // Stripe's redelivery finds it queued: nothing listed, nothing queued again.
    expect((await deliver(event)).body.outcome).toBe("duplicate");
    // The scheduled drain, minute after minute, until Resend is back.
    for (let minute = 0; minute < 10 && ledger.records.get(session.id)?.state !== "fulfilled"; minute++) {
      clock.advance(60_000);
      await drain();
    }
    expect(mailer.sent).toHaveLength(2);
    expect(ledger.records.get(session.id)?.state).toBe("fulfilled");
    // Four refusals and one success: waits between attempts, never a tight loop.
    expect(mailer.batches).toBe(5);
  });

  it("answers 503 when the store is down, and sends nothing", async () => {
    const { deliver, paidSession, mailer, lineItems, store } = setup();
    store.down = true;
    const event = stripeEvent("checkout.session.completed", paidSession());
    expect(await deliver(event)).toEqual({ status: 503, body: { error: "store_unavailable" } });
    expect(mailer.sent).toHaveLength(0);
    expect(lineItems.calls).toBe(0);
    store.down = false;
    expect((await deliver(event)).body.outcome).toBe("queued");
    expect(mailer.sent).toHaveLength(2);
  });
});

describe("logging", () => {
  it("writes one line per delivery with ids, outcome and duration, and no personal data", async () => {
    const { deliver, paidSession, logs } = setup();
    const session = paidSession();
    const event = stripeEvent("checkout.session.completed", session);
    await deliver(event);
    expect(logs.filter((entry) => entry.event === "webhook.delivery")).toEqual([
      {
        event: "webhook.delivery",
        eventId: event.id,
        type: "checkout.session.completed",
        sessionId: session.id,
        outcome: "queued",
        reason: "emails_queued",
        status: 200,
        durationMs: expect.any(Number),
      },
    ]);
    // The drain's own lines: the batch and the order it fulfilled.
    expect(logs.map((entry) => entry.event)).toEqual(["webhook.delivery", "mail.batch", "order.fulfilled"]);
    expect(JSON.stringify(logs)).not.toMatch(/@|Jenny|Townsend/);
  });
});

describe("never twice, at any age", () => {
  it("sends nothing for a fulfilled order after every provider key expired", async () => {
    const { deliver, paidSession, mailer, clock } = setup();
    const session = paidSession();
    await deliver(stripeEvent("checkout.session.completed", session));
    clock.advance(40 * 24 * 60 * 60 * 1000);
    mailer.expireKeys();
    const again = await deliver(stripeEvent("checkout.session.async_payment_succeeded", session));
    expect(again.body.outcome).toBe("duplicate");
    expect(mailer.sent).toHaveLength(2);
  });

  it("sends nothing when Redis lost the order but Stripe's metadata says fulfilled, and restores the record", async () => {
    const { deliver, paidSession, mailer, ledger, sessions } = setup();
    const session = paidSession();
    await deliver(stripeEvent("checkout.session.completed", session));
    ledger.records.clear();
    mailer.expireKeys();
    // Stripe's next event (or a list call) carries the metadata written after the emails were accepted.
    const stored = sessions.sessions.get(session.id);
    const res = await deliver(
      stripeEvent("checkout.session.completed", { ...session, metadata: stored?.metadata }),
    );
    expect(res.body.outcome).toBe("duplicate");
    expect(mailer.sent).toHaveLength(2);
    expect(ledger.records.get(session.id)).toMatchObject({
      state: "fulfilled",
      reason: "restored_from_stripe",
    });
  });

  it("trusts a recent event's snapshot: one Stripe read (the line items) and one write for a first send", async () => {
    const { deliver, paidSession, mailer, sessions, lineItems, clock } = setup();
    const event = {
      ...stripeEvent("checkout.session.completed", paidSession()),
      created: Math.floor(clock.now / 1000) - 60,
    };
    expect((await deliver(event)).body.outcome).toBe("queued");
    expect(lineItems.calls).toBe(1);
    expect(sessions.retrieves).toBe(0);
    expect(sessions.updates).toBe(1);
    expect(mailer.sent).toHaveLength(2);
  });

  it("still trusts it after a lost database: within Resend's window the emails' keys stop a second send", async () => {
    const { deliver, paidSession, mailer, ledger, sessions, clock } = setup();
    const event = {
      ...stripeEvent("checkout.session.completed", paidSession()),
      created: Math.floor(clock.now / 1000),
    };
    await deliver(event);
    ledger.records.clear();
    clock.advance(60 * 60 * 1000);
    expect((await deliver(event)).body.outcome).toBe("queued");
    expect(sessions.retrieves).toBe(0);
    expect(mailer.sent).toHaveLength(2);
  });

  it("asks Stripe before a first send, so a redelivered old event after a lost database sends nothing", async () => {
    const { deliver, paidSession, mailer, ledger, sessions } = setup();
    const event = stripeEvent("checkout.session.completed", paidSession());
    await deliver(event);
    ledger.records.clear();
    mailer.expireKeys();
    const calls = sessions.calls;
    // The same payload as the first delivery: no fulfilled marker in it.
    expect((await deliver(event)).body.outcome).toBe("duplicate");
    expect(sessions.calls).toBe(calls + 1);
    expect(mailer.sent).toHaveLength(2);
  });

  it("sends nothing twice when a batch's answer was lost: the same batch goes again under the same key", async () => {
    const { deliver, paidSession, mailer, ledger } = setup();
    const session = paidSession();
    const real = mailer.sendBatch.bind(mailer);
    let calls = 0;
    // The first request is accepted, but its answer never arrives.
    mailer.sendBatch = async (emails, key) => {
      const outcome = await real(emails, key);
      return ++calls === 1 ? { kind: "failed", reason: "resend:network:fetch_failed" } : outcome;
    };
    // The drain after the answer tries the same batch again two seconds later: Resend replays its answer.
    expect((await deliver(stripeEvent("checkout.session.completed", session))).status).toBe(200);
    expect(mailer.batches).toBe(2);
    expect(mailer.sent.map((e) => e.to)).toEqual(["jenny@example.com", "owner@shop.example"]);
    expect(ledger.records.get(session.id)?.state).toBe("fulfilled");
  });

  it("records a batch whose outcome is unknown after the key window as failed, and alerts instead of resending", async () => {
    const { deliver, paidSession, mailer, ledger, clock, drain } = setup();
    const session = paidSession();
    const real = mailer.sendBatch.bind(mailer);
    let calls = 0;
    mailer.sendBatch = async (emails, key) => {
      const outcome = await real(emails, key);
      // Accepted, but neither this answer nor the next two attempts' arrive.
      return ++calls <= 3 ? { kind: "failed", reason: "resend:network:fetch_failed" } : outcome;
    };
    expect((await deliver(stripeEvent("checkout.session.completed", session))).status).toBe(200);
    // Nothing drained for a day: the batch's key has expired at Resend.
    clock.advance(IDEMPOTENCY_WINDOW_MS + 60_000);
    mailer.expireKeys();
    expect(await drain()).toMatchObject({ failed: 1 });
    expect(ledger.records.get(session.id)).toMatchObject({
      state: "failed",
      reason: "receipt:outcome_unknown_key_expired",
    });
    expect(mailer.sent.map((e) => e.subject)).toEqual([
      `Your Test Shop order ${orderNumber(session.id)}: $30.00`,
      expect.stringMatching(/^\[TEST\] New order/),
      "Order not fulfilled: receipt:outcome_unknown_key_expired",
    ]);
    // A redelivery afterwards sends nothing: the merchant decides (retry or resend).
    await deliver(stripeEvent("checkout.session.async_payment_succeeded", session));
    expect(mailer.sent).toHaveLength(3);
  });

  it("sends a batch the daily quota held back for over a day: refused is not sent, so its age risks nothing", async () => {
    const { deliver, paidSession, mailer, ledger, clock, drain } = setup();
    const session = paidSession();
    mailer.batchOutcomes.push({ kind: "quota", retryAfterMs: 25 * 60 * 60 * 1000 });
    expect((await deliver(stripeEvent("checkout.session.completed", session))).status).toBe(200);
    expect(ledger.records.get(session.id)).toMatchObject({ state: "fulfilling", reason: "queued" });
    clock.advance(25 * 60 * 60 * 1000 + 1000);
    expect(await drain()).toMatchObject({ sent: 2, fulfilled: 1, failed: 0 });
    expect(ledger.records.get(session.id)?.state).toBe("fulfilled");
    expect(mailer.sent.map((e) => e.to)).toEqual(["jenny@example.com", "owner@shop.example"]);
  });

  it("keeps claims just over Netlify's 60 s function limit", () => {
    expect(CLAIM_TTL_SECONDS).toBeGreaterThan(60);
    expect(CLAIM_TTL_SECONDS).toBeLessThanOrEqual(120);
  });
});

describe("permanent failures", () => {
  it("records a Resend 422 on the receipt, still notifies the merchant, alerts separately and answers 200", async () => {
    const { deliver, paidSession, mailer, ledger, logs } = setup();
    const session = paidSession();
    // Resend refuses the receipt alone (permissive batch validation) and takes the notice.
    mailer.refuseNext = [{ index: 0, reason: "resend:422:validation_error" }];
    const res = await deliver(stripeEvent("checkout.session.completed", session));
    expect(res).toEqual({ status: 200, body: { received: true, outcome: "queued" } });
    expect(mailer.sent.map((e) => [e.to, e.subject])).toEqual([
      ["owner@shop.example", `[TEST] New order ${orderNumber(session.id)}: $30.00, 2 items`],
      ["owner@shop.example", "Order not fulfilled: receipt:resend:422:validation_error"],
    ]);
    expect(ledger.records.get(session.id)).toMatchObject({
      state: "failed",
      reason: "receipt:resend:422:validation_error",
    });
    expect(logs).toContainEqual(
      expect.objectContaining({ event: "order.failed", level: "error", sessionId: session.id }),
    );
    // A redelivery does not retry or alert again; the merchant's retry does.
    await deliver(stripeEvent("checkout.session.completed", session));
    expect(mailer.sent).toHaveLength(2);
  });

  const poison: [string, (session: Record<string, unknown>) => unknown, string][] = [
    ["data.object null", () => null, "missing_session"],
    ["a session id with a newline", (s) => ({ ...s, id: `${String(s.id)}\n` }), "invalid_session_id"],
    ["a non-ASCII session id", (s) => ({ ...s, id: `${String(s.id)}é` }), "invalid_session_id"],
    [
      "a 10 000-character session id",
      (s) => ({ ...s, id: `cs_test_${"a".repeat(10_000)}` }),
      "invalid_session_id",
    ],
    ['currency ""', (s) => ({ ...s, currency: "" }), "invalid_currency"],
    ['currency "dollars"', (s) => ({ ...s, currency: "dollars" }), "invalid_currency"],
    ["a non-numeric amount", (s) => ({ ...s, amount_total: "lots" }), "invalid_amount"],
  ];

  it.each(poison)(
    "acknowledges %s with 200, records it and alerts the merchant",
    async (_, change, reason) => {
      const { deliver, paidSession, mailer, ledger, logs } = setup();
      const object = change(paidSession());
      const event = stripeEvent("checkout.session.completed", {});
      event.data.object = object as never;
      const res = await deliver(event);
      expect(res).toEqual({ status: 200, body: { received: true, outcome: "failed" } });
      const records = [...ledger.records.values()];
      expect(records).toEqual([expect.objectContaining({ state: "failed", reason })]);
      expect(mailer.sent.map((e) => [e.to, e.subject])).toEqual([
        ["owner@shop.example", `Order not fulfilled: ${reason}`],
      ]);
      expect(logs).toContainEqual(expect.objectContaining({ event: "order.failed", level: "error", reason }));
      // Keys are the id or its hash: bounded ASCII whatever the payload held.
      for (const key of [...ledger.records.keys(), ...mailer.sent.map((e) => e.idempotencyKey)]) {
        expect(key).toMatch(/^[\x21-\x7e]{1,120}$/);
      }
    },
  );

  const hostileEmails: [string, Record<string, unknown>][] = [
    ["CR/LF with a Bcc: line", { email: "jenny@example.com\r\nBcc: everyone@evil.example" }],
    ["markup", { email: '<script>alert("x")</script>@example.com' }],
    ["two addresses", { email: "jenny@example.com, eve@evil.example" }],
    ["5,000 characters", { email: `${"j".repeat(4988)}@example.com` }],
    ["not an address", { email: "not-an-email" }],
    ["a display name", { email: "Jenny Rosen <jenny@example.com>" }],
    ["not a string", { email: 42 }],
    [
      "the older customer_email field with a newline",
      { customer_email: "jenny@example.com\nBcc: eve@evil.example" },
    ],
  ];

  it.each(hostileEmails)(
    "refuses a customer email that is %s: records it as failed, alerts the merchant, sends no receipt, answers 200",
    async (_, where) => {
      const { deliver, paidSession, mailer, ledger, lineItems, sessions, logs } = setup();
      const session = paidSession(
        "customer_email" in where
          ? { customer_details: null, ...where }
          : { customer_details: { ...(checkoutSession().customer_details as object), ...where } },
      );
      const event = stripeEvent("checkout.session.completed", session);
      const res = await deliver(event);
      expect(res).toEqual({ status: 200, body: { received: true, outcome: "failed" } });
      expect(ledger.records.get(session.id)).toMatchObject({
        sessionId: session.id,
        state: "failed",
        reason: "invalid_customer_email",
      });
      // The alert is the only email: no receipt, and no new-order notice for an order that failed.
      expect(mailer.sent.map((e) => [e.to, e.subject])).toEqual([
        ["owner@shop.example", "Order not fulfilled: invalid_customer_email"],
      ]);
      expect(lineItems.calls).toBe(0);
      expect(sessions.updates).toBe(0);
      expect(logs).toContainEqual(
        expect.objectContaining({ event: "order.failed", level: "error", reason: "invalid_customer_email" }),
      );
      // Nothing of the value is repeated in an email, a log line or the ledger (compared as JSON escapes it).
      const value = Object.values(where)[0];
      if (typeof value === "string") {
        const fragment = JSON.stringify(value).slice(1, 21);
        for (const stored of [mailer.sent, logs, [...ledger.records]])
          expect(JSON.stringify(stored)).not.toContain(fragment);
      }
      // A redelivery neither sends nor alerts again.
      await deliver(event);
      expect(mailer.sent).toHaveLength(1);
    },
  );

  it("sends no payment-failed notice to an address that is not one", async () => {
    const { deliver, mailer, ledger } = setup();
    const session = checkoutSession({
      payment_status: "unpaid",
      customer_details: { email: "jenny@example.com\r\nBcc: everyone@evil.example" },
    });
    const res = await deliver(stripeEvent("checkout.session.async_payment_failed", session));
    expect(res).toEqual({ status: 200, body: { received: true, outcome: "failed" } });
    expect(mailer.sent.map((e) => e.to)).toEqual(["owner@shop.example"]);
    expect(ledger.records.get(session.id)).toMatchObject({
      state: "failed",
      reason: "invalid_customer_email",
    });
  });

  it("still fulfils an unusual but valid address", async () => {
    const { deliver, paidSession, mailer } = setup();
    const session = paidSession({
      customer_details: { email: "o'brien+shop@mail.example.co.uk", name: "Aoife" },
    });
    expect((await deliver(stripeEvent("checkout.session.completed", session))).body.outcome).toBe("queued");
    expect(mailer.sent.map((e) => e.to)).toEqual(["o'brien+shop@mail.example.co.uk", "owner@shop.example"]);
  });

  it("records line items with a non-numeric amount as failed, under the session's id", async () => {
    const { deliver, paidSession, lineItems, ledger, mailer } = setup();
    const session = paidSession();
    lineItems.items[session.id] = [
      { ...lineItem({ name: "Odd mug", unitAmount: 1500 }), amount_subtotal: "NaN" },
    ] as unknown as LineItemPayload[];
    const res = await deliver(stripeEvent("checkout.session.completed", session));
    expect(res).toEqual({ status: 200, body: { received: true, outcome: "failed" } });
    expect(ledger.records.get(session.id)).toMatchObject({
      sessionId: session.id,
      state: "failed",
      reason: "invalid_amount",
    });
    expect(mailer.sent.map((e) => e.subject)).toEqual(["Order not fulfilled: invalid_amount"]);
    expect(mailer.sent[0]?.text).toContain(session.id);
  });

  it("answers JSON 500, never a stack trace, for an unexpected error", async () => {
    const { deliver, paidSession, lineItems } = setup();
    lineItems.listLineItems = async () => {
      throw new TypeError("boom");
    };
    const res = await deliver(stripeEvent("checkout.session.completed", paidSession()));
    expect(res).toEqual({ status: 500, body: { error: "internal_error" } });
  });
});

describe("only this shop's sessions", () => {
  const apiSession = { metadata: {}, payment_link: null };
  const handMadeLink = { metadata: {}, payment_link: "plink_handmade" };

  it.each([
    ["shop", apiSession, "ignored"],
    ["shop", handMadeLink, "ignored"],
    ["payment_links", apiSession, "ignored"],
    ["payment_links", handMadeLink, "queued"],
    ["all", apiSession, "queued"],
  ] as const)("with scope %s, a session %o is %s", async (scope, overrides, outcome) => {
    const { deliver, paidSession, mailer, ledger } = setup({ scope });
    const res = await deliver(stripeEvent("checkout.session.completed", paidSession(overrides)));
    expect(res.body.outcome).toBe(outcome);
    expect(mailer.sent.length > 0).toBe(outcome === "queued");
    expect(ledger.records.size > 0).toBe(outcome === "queued");
  });
});

describe("session keys", () => {
  it("uses a well-formed id as is and hashes anything else", () => {
    expect(sessionKey("cs_test_a1B2")).toBe("cs_test_a1B2");
    expect(sessionKey("cs_test_a1\nB2")).toMatch(/^[0-9a-f]{64}$/);
    expect(sessionKey(`cs_test_${"a".repeat(251)}`)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("deliberate resends and retries", () => {
  it("resends a fulfilled order's receipt with a new key each time, and refuses an unfulfilled one", async () => {
    const { deliver, paidSession, mailer, ledger, deps, drain } = setup();
    const done = paidSession();
    await deliver(stripeEvent("checkout.session.completed", done));
    const session = (await deps.sessions.retrieve(done.id)) as SessionPayload;
    expect(await resendReceipt(session, deps)).toEqual({ outcome: "fulfilled", reason: "receipt_resent" });
    expect(await resendReceipt(session, deps)).toEqual({ outcome: "fulfilled", reason: "receipt_resent" });
    await drain();
    const receipts = mailer.sent.filter((e) => e.to === "jenny@example.com");
    expect(receipts.map((e) => e.idempotencyKey)).toEqual([
      `linkshop-receipt-${done.id}`,
      `linkshop-resend1-${done.id}`,
      `linkshop-resend2-${done.id}`,
    ]);
    expect(ledger.records.get(done.id)?.emails.resent).toHaveLength(2);

    const open = paidSession();
    expect(await resendReceipt(open as unknown as SessionPayload, deps)).toEqual({
      outcome: "failed",
      reason: "not_fulfilled_yet",
    });
    expect(ledger.records.has(open.id)).toBe(false);
  });

  it("neither retries nor resends to a customer email that is not one address", async () => {
    const { deliver, paidSession, mailer, deps } = setup();
    const session = paidSession({ customer_details: { email: "jenny@example.com, eve@evil.example" } });
    await deliver(stripeEvent("checkout.session.completed", session));
    const hostile = session as unknown as SessionPayload;
    expect(await retryOrder(hostile, deps)).toEqual({ outcome: "failed", reason: "invalid_customer_email" });
    expect(await resendReceipt(hostile, deps)).toEqual({
      outcome: "failed",
      reason: "invalid_customer_email",
    });
    expect(mailer.sent.map((e) => e.to)).toEqual(["owner@shop.example"]);
  });

  it("retries a failed order once its cause is fixed, sending only what was not accepted", async () => {
    const { deliver, paidSession, mailer, ledger, deps, drain } = setup();
    const session = paidSession();
    mailer.refuseNext = [{ index: 0, reason: "resend:422:validation_error" }];
    await deliver(stripeEvent("checkout.session.completed", session));
    expect(ledger.records.get(session.id)?.state).toBe("failed");
    const before = mailer.sent.length;
    expect(await retryOrder(session as unknown as SessionPayload, deps)).toEqual({
      outcome: "queued",
      reason: "emails_queued",
    });
    await drain();
    expect(mailer.sent.slice(before).map((e) => e.to)).toEqual(["jenny@example.com"]);
    expect(ledger.records.get(session.id)?.state).toBe("fulfilled");
    expect(await retryOrder(session as unknown as SessionPayload, deps)).toMatchObject({
      outcome: "duplicate",
    });
  });
});
