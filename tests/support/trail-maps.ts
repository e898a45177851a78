/**
 * The sample catalog's digital product as download tests use it: a shop that delivers `trail-maps.pdf`, and paid
 * Checkout Sessions for it known to the fake Stripe.
 */
import type { LineItemPayload, SessionPayload } from "../../src/order/model.ts";
import { fileId, type OrderFile } from "../../src/order/downloads.ts";
import type { ShopInfo } from "../../src/shop/info.ts";
import { type MemorySessions, type StaticLineItems, testShop } from "./fakes.ts";
import { checkoutSession, example, lineItem } from "./stripe-payloads.ts";

/** The trail maps' one file, as the catalog names it. */
export const TRAIL_MAPS: OrderFile = {
  id: fileId("trail-maps", "trail-maps.pdf"),
  name: "trail-maps.pdf",
  productId: "trail-maps",
};

/** A shop on https://shop.example whose trail maps deliver their file; `overrides` change any other fact. */
export function filesShop(overrides: Partial<ShopInfo> = {}): ShopInfo {
  return testShop({
    siteUrl: "https://shop.example",
    productFiles: { "trail-maps": [TRAIL_MAPS] },
    ...overrides,
  });
}

/** A paid session for one set of trail maps ($9.00), with its line items, known to the fakes. */
export function trailMapsSession(
  fakes: { sessions: MemorySessions; lineItems: StaticLineItems },
  overrides: Record<string, unknown> = {},
): SessionPayload & { id: string } {
  const session = checkoutSession(overrides) as unknown as SessionPayload & { id: string };
  fakes.sessions.sessions.set(session.id, structuredClone(session));
  const product = {
    ...example("product"),
    name: "Printable Trail Maps",
    metadata: { linkshop_id: "trail-maps" },
  };
  fakes.lineItems.items[session.id] = [
    lineItem({ name: "Printable Trail Maps", unitAmount: 900, product }),
  ] as unknown as LineItemPayload[];
  return session;
}
