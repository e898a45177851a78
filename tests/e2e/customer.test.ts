/**
 * The customer's own pages under `netlify dev`, as `npm start` runs them: a paid order, "find my order" by email,
 * the sign-in email in the outbox (sent after the answer, by the same mail queue), the orders page, and the receipt
 * once more.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { orderNumber } from "../../src/order/number.ts";
import { type E2eShop, printOutputOnFailure, startE2eShop } from "../support/e2e.ts";
import { emulatorClient, paidSession } from "../support/stripe-emulator.ts";

let shop: E2eShop;

describe("the customer's pages under netlify dev", () => {
  beforeAll(async () => {
    shop = await startE2eShop({
      retryDelaysMs: [250, 500, 1000, 2000, 4000],
      asyncPaymentDelayMs: 0,
      maxInFlight: 4,
    });
  });

  afterAll(async () => {
    await shop?.stop();
  });

  beforeEach(() => printOutputOnFailure(() => shop));

  /** Emails to `address`, in any case (the sign-in email goes to the address as the customer typed it). */
  const to = (address: string) =>
    shop.outbox.emails().filter((email) => email.to.some((each) => each.toLowerCase() === address));

  it("find -> sign-in email -> the orders page -> the receipt again", async () => {
    const customer = "casey.lin@example.com";
    const sessionId = await paidSession(emulatorClient(shop.stripe.url), shop.stripe.url, undefined, {
      email: customer,
    });
    await shop.stripe.idle();
    await expect.poll(() => to(customer).length, { timeout: 60_000 }).toBe(1);

    const form = await fetch(`${shop.shopUrl}/orders`);
    expect(form.status).toBe(200);
    expect(await form.text()).toContain('method="post"');

    const asked = await fetch(`${shop.shopUrl}/orders`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ email: "Casey.Lin@example.com" }),
    });
    expect(asked.status).toBe(200);
    // The sign-in email leaves after the answer, through the mail queue.
    await expect.poll(() => to(customer).length, { timeout: 60_000 }).toBe(2);
    const signIn = to(customer).at(-1);
    const link = /https?:\/\/\S+\/orders\/[\w.-]+/.exec(signIn?.text ?? "")?.[0];
    expect(link, signIn?.text).toBeDefined();

    const orders = await fetch(link as string);
    expect(orders.status).toBe(200);
    const page = await orders.text();
    expect(page).toContain(orderNumber(sessionId));
    expect(page).not.toContain(customer);

    const again = await fetch(link as string, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ session: sessionId }),
    });
    expect(again.status).toBe(200);
    await expect.poll(() => to(customer).length, { timeout: 60_000 }).toBe(3);
    expect(to(customer).at(-1)?.text).toContain(orderNumber(sessionId));
  });
});
