/** The emulated hosted checkout in Chromium: the total follows the quantity as it is typed, and Pay charges it. */
import type { Browser } from "playwright-core";
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StripeEmulator, startStripeEmulator } from "../../dev/stripe-emulator/index.ts";
import { emulatorClient } from "../support/stripe-emulator.ts";
import { launchBrowser, runAxe, skipBrowserTests } from "../support/browser.ts";

describe.skipIf(skipBrowserTests)("emulated checkout page in Chromium", () => {
  let browser: Browser;
  let emulator: StripeEmulator;
  let stripe: Stripe;

  beforeAll(async () => {
    [browser, emulator] = await Promise.all([launchBrowser(), startStripeEmulator()]);
    stripe = emulatorClient(emulator.url);
  });

  afterAll(async () => {
    await browser?.close();
    await emulator?.close();
  });

  async function linkUrl(): Promise<string> {
    const product = await stripe.products.create({ name: "Trail mug" });
    const price = await stripe.prices.create({ product: product.id, unit_amount: 1600, currency: "usd" });
    const link = await stripe.paymentLinks.create({
      line_items: [{ price: price.id, quantity: 1, adjustable_quantity: { enabled: true, maximum: 5 } }],
    });
    return link.url;
  }

  it("updates the line, the total and the Pay button while typing, then charges exactly that", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const url = new URL(await linkUrl());
      url.searchParams.set("prefilled_email", "ana@example.com");
      await page.goto(url.href);
      await expect(page.getByLabel("Email").inputValue()).resolves.toBe("ana@example.com");
      await expect(page.locator("#total").textContent()).resolves.toBe("$16.00");

      await page.getByLabel("Quantity of Trail mug").fill("3");
      await expect(page.locator("#total").textContent()).resolves.toBe("$48.00");
      await expect(page.locator(".line-amount").textContent()).resolves.toBe("$48.00");
      await expect(page.getByRole("button", { name: "Pay $48.00" }).count()).resolves.toBe(1);
      await expect(runAxe(page)).resolves.toEqual([]);

      const sessionId = new URL(page.url()).pathname.split("/").pop() ?? "";
      await page.getByRole("button", { name: "Pay $48.00" }).click();
      await page.waitForURL((next) => next.href !== url.href && !next.href.includes("/pay/plink_"));
      await expect(page.getByRole("status").textContent()).resolves.toBe("Your payment was received.");
      const session = await stripe.checkout.sessions.retrieve(sessionId);
      expect(session).toMatchObject({ status: "complete", amount_total: 4800 });
      expect(session.customer_details?.email).toBe("ana@example.com");
    } finally {
      await context.close();
    }
  });
});
