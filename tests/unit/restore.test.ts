/**
 * An order Stripe remembers as fulfilled but the ledger lost (a lost or replaced Redis database): whichever path
 * meets it first restores its record without sending anything, and with the line items at hand (the thank-you
 * page reads them with the session) the record gets its items, files, PaymentIntent and customer index back, so the
 * customer's download links and own orders page work again.
 */
import { describe, expect, it } from "vitest";
import { fulfilOrder, resendReceipt } from "../../src/fulfilment/fulfil.ts";
import { FULFILLED_MARKER } from "../../src/order/metadata.ts";
import { customerHash } from "../../src/order/customers.ts";
import { fakeDeps } from "../support/fakes.ts";
import { TRAIL_MAPS, filesShop, trailMapsSession } from "../support/trail-maps.ts";

/** A trail-maps order fulfilled before the ledger was lost: Stripe's session carries the marker. */
function lostOrder() {
  const fakes = fakeDeps({ shop: filesShop() });
  const session = trailMapsSession(fakes, {
    payment_intent: "pi_restore1x",
    metadata: { linkshop_id: "trail-maps", [FULFILLED_MARKER]: "2026-12-01T10:00:00.000Z" },
  });
  return { ...fakes, session, lineItems: fakes.lineItems.items[session.id] ?? [] };
}

describe("restoring a lost record from Stripe's marker", () => {
  it("from the thank-you page: sends nothing, and the record has its files and customer index again", async () => {
    const { deps, session, lineItems, ledger, mailer } = lostOrder();
    const result = await fulfilOrder(session, deps, { by: "page", lineItems, fresh: true });
    expect(result).toEqual({ outcome: "duplicate", reason: "fulfilled_on_stripe" });
    expect(mailer.sent).toEqual([]);
    const record = await ledger.get(session.id);
    expect(record).toMatchObject({
      state: "fulfilled",
      reason: "restored_from_stripe",
      files: [TRAIL_MAPS],
      paymentIntent: "pi_restore1x",
    });
    const customer = customerHash("jenny@example.com", deps.downloadSecret ?? "");
    expect(await ledger.customerOrders.list(customer, 10)).toEqual([session.id]);
  });

  it("a resend of a record restored without its details gives it back its files", async () => {
    const { deps, session, lineItems, ledger } = lostOrder();
    // Restored by a path without line items (an old webhook event, reconciliation): the bare record.
    expect(await fulfilOrder(session, deps, { by: "reconcile", fresh: true })).toMatchObject({
      reason: "fulfilled_on_stripe",
    });
    expect((await ledger.get(session.id))?.files).toBeUndefined();
    expect(await resendReceipt(session, deps, lineItems, "merchant")).toMatchObject({ outcome: "fulfilled" });
    expect(await ledger.get(session.id)).toMatchObject({
      files: [TRAIL_MAPS],
      paymentIntent: "pi_restore1x",
    });
  });
});
