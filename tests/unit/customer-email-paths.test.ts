/**
 * A customer email that is not one plain address is refused on every path that could send to it, not only the
 * webhook's (tests/unit/webhook.test.ts covers that one with signed Requests): the thank-you page and reconciliation.
 */
import { describe, expect, it } from "vitest";
import type { LineItemPayload, SessionPayload } from "../../src/order/model.ts";
import { createOrderStatusHandler } from "../../src/order-status/handler.ts";
import { type ReconcileDeps, reconcile } from "../../src/reconcile/reconcile.ts";
import { fakeDeps } from "../support/fakes.ts";
import { pageDeps } from "../support/order-status.ts";
import { checkoutSession, lineItem } from "../support/stripe-payloads.ts";

const HOSTILE = "jenny@example.com\r\nBcc: everyone@evil.example";

/** Fakes with one paid session of this shop, created a minute ago, whose customer email is `email`. */
function withSession(email: unknown) {
  const fakes = fakeDeps();
  const session = checkoutSession({
    id: `cs_test_${crypto.randomUUID().replaceAll("-", "")}`,
    created: Math.floor(fakes.clock.now / 1000) - 60,
    customer_details: { email, name: "Jenny Rosen" },
  });
  fakes.sessions.sessions.set(session.id, session as unknown as SessionPayload);
  fakes.lineItems.items[session.id] = [
    lineItem({ name: "Ceramic mug", unitAmount: 1500 }),
  ] as unknown as LineItemPayload[];
  return { ...fakes, session };
}

describe("a customer email that is not one address", () => {
  it("is not sent to by the thank-you page, which answers that the order cannot be shown", async () => {
    const { deps, session, mailer, ledger } = withSession(HOSTILE);
    const handle = createOrderStatusHandler({ deps: pageDeps(deps), log: deps.log });
    const res = await handle(new Request(`http://localhost/api/order-status?session_id=${session.id}`));
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ error: "unusable_order" });
    expect(mailer.requests).toBe(0);
    // The page records nothing: the webhook's delivery of the same session does, and alerts.
    expect(ledger.records.size).toBe(0);
  });

  it("is recorded as failed by reconciliation, with the merchant alerted and no receipt", async () => {
    const { deps, session, mailer, ledger, drain } = withSession("a@x.com, b@y.com");
    const values = new Map<string, string>();
    const reconcileDeps: ReconcileDeps = {
      ...deps,
      values: {
        get: async (key) => values.get(key),
        set: async (key, value) => void values.set(key, value),
        delete: async (key) => void values.delete(key),
      },
    };
    const summary = await reconcile(reconcileDeps);
    expect(summary).toMatchObject({ listed: 1, fulfilled: 0, failed: 1 });
    await drain();
    expect(ledger.records.get(session.id)).toMatchObject({
      state: "failed",
      reason: "invalid_customer_email",
    });
    expect(mailer.sent.map((e) => [e.to, e.subject])).toEqual([
      ["owner@shop.example", "Order not fulfilled: invalid_customer_email"],
    ]);
  });
});
