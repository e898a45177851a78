import { describe, expect, it } from "vitest";
import type { SessionScope } from "../../src/order/session.ts";
import { chooseAction, type EventPayload } from "../../src/webhook/route.ts";
import { checkoutSession, fixture, stripeEvent } from "../support/stripe-payloads.ts";

const kind = (event: EventPayload, scope: SessionScope = "shop") => {
  const action = chooseAction(event, scope);
  return action.kind === "ignore" ? `ignore:${action.reason}` : action.kind;
};

describe("chooseAction", () => {
  it.each([
    ["checkout.session.completed", { payment_status: "paid" }, "fulfil"],
    ["checkout.session.completed", { payment_status: "no_payment_required" }, "fulfil"],
    ["checkout.session.completed", { payment_status: "unpaid" }, "await_payment"],
    [
      "checkout.session.completed",
      { mode: "setup", payment_status: "no_payment_required" },
      "ignore:setup_mode",
    ],
    ["checkout.session.async_payment_succeeded", { payment_status: "paid" }, "fulfil"],
    ["checkout.session.async_payment_failed", { payment_status: "unpaid" }, "notify_payment_failed"],
    [
      "checkout.session.expired",
      { status: "expired", payment_status: "unpaid" },
      "ignore:unhandled_event_type",
    ],
  ])("%s with %o -> %s", (type, overrides, expected) => {
    expect(kind(stripeEvent(type, checkoutSession(overrides)))).toBe(expected);
  });

  it("ignores other event types and non-session objects", () => {
    expect(kind(fixture<EventPayload>("events/ruby_pi.json"))).toBe("ignore:unhandled_event_type");
    expect(kind(stripeEvent("checkout.session.completed", { object: "charge", id: "ch_1" }))).toBe(
      "unusable",
    );
  });

  it.each([
    // A real charge made without a PaymentIntent (the Charges API): no Payment Link made it.
    ["ruby_refund.json", "ignore:no_payment_intent"],
    // A real live-mode full refund: which order it is, the ledger or one Stripe lookup says when it runs.
    ["sync_refund.json", "refund"],
    ["ruby_usd_paid.json", "fulfil"],
    ["sync_eur_live.json", "fulfil"],
    ["jam_gbp_tax.json", "fulfil"],
    ["landgrab_sub.json", "fulfil"],
    ["hookdeck_sub_plink.json", "fulfil"],
    ["ruby_setup.json", "ignore:setup_mode"],
  ])("real payload %s -> %s on an account that serves only this shop", (file, expected) => {
    expect(kind(fixture<EventPayload>(`events/${file}`), "all")).toBe(expected);
  });

  it.each([
    ["ruby_usd_paid.json", "shop", "ignore:not_this_shop"],
    ["hookdeck_sub_plink.json", "shop", "ignore:not_this_shop"],
    ["ruby_usd_paid.json", "payment_links", "ignore:not_this_shop"],
    ["hookdeck_sub_plink.json", "payment_links", "fulfil"],
  ] as const)("real payload %s with scope %s -> %s", (file, scope, expected) => {
    expect(kind(fixture<EventPayload>(`events/${file}`), scope)).toBe(expected);
  });
});
