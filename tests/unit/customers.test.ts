import { describe, expect, it } from "vitest";
import { customerHash, shopKey } from "../../src/order/customers.ts";
import { createWebhookHandler } from "../../src/webhook/handler.ts";
import type { LineItemPayload } from "../../src/order/model.ts";
import { fakeDeps } from "../support/fakes.ts";
import { checkoutSession, lineItem, stripeEvent, webhookRequest } from "../support/stripe-payloads.ts";

const secret = "dls_test_0123456789abcdef0123456789abcdef";

describe("the customer index key", () => {
  it("is one 64-hex key per address, whatever its case or stray spaces", () => {
    const key = customerHash("Jenny@Example.com ", secret);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(customerHash(" jenny@example.com", secret)).toBe(key);
    expect(customerHash("jenny2@example.com", secret)).not.toBe(key);
  });

  it("depends on the shop's secret, and is no plain hash of the address", async () => {
    expect(customerHash("jenny@example.com", `${secret}x`)).not.toBe(
      customerHash("jenny@example.com", secret),
    );
    const { createHash } = await import("node:crypto");
    expect(customerHash("jenny@example.com", secret)).not.toBe(
      createHash("sha256").update("jenny@example.com").digest("hex"),
    );
    // Each purpose gets a key of its own.
    expect(shopKey(secret, "customers").equals(shopKey(secret, "sign-in"))).toBe(false);
  });

  it("lists each fulfilled order under its customer, newest first, without storing the address", async () => {
    const fakes = fakeDeps();
    const handle = createWebhookHandler({
      webhookSecret: "whsec_customers",
      deps: fakes.deps,
      log: () => {},
      drain: fakes.drain,
    });
    const ids: string[] = [];
    for (const email of ["Jenny@Example.com", "jenny@example.com", "other@example.com"]) {
      const session = checkoutSession({ customer_details: { email, name: "Jenny Rosen" } });
      fakes.sessions.sessions.set(session.id, structuredClone(session) as never);
      fakes.lineItems.items[session.id] = [
        lineItem({ name: "Ceramic mug", unitAmount: 1500, quantity: 2 }),
      ] as unknown as LineItemPayload[];
      const body = JSON.stringify(stripeEvent("checkout.session.completed", session));
      expect((await handle(webhookRequest(body, { secret: "whsec_customers" }))).status).toBe(200);
      ids.push(session.id);
      fakes.clock.advance(1000);
    }
    const jenny = fakes.ledger.customers.get(customerHash("jenny@example.com", secret));
    expect([...(jenny?.keys() ?? [])]).toEqual([ids[0], ids[1]]);
    expect(fakes.ledger.customers.get(customerHash("other@example.com", secret))?.has(ids[2] ?? "")).toBe(
      true,
    );
    expect(JSON.stringify([...fakes.ledger.records])).not.toMatch(/jenny@|Jenny@/);
  });
});
