/**
 * A digital product end to end under `netlify dev` with its local Blobs: buy the trail maps in Chromium, get the
 * receipt's link, open the download page, take the file (the bytes of downloads/trail-maps.pdf), reach the limit,
 * then refund the payment on Stripe and find the link refused.
 */
import { readFile } from "node:fs/promises";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { launchBrowser, skipBrowserTests } from "../support/browser.ts";
import {
  clickBuy,
  type E2eShop,
  emailsAbout,
  fillCheckout,
  PAYMENT,
  pay,
  printOutputOnFailure,
  startE2eShop,
  thanksState,
} from "../support/e2e.ts";
import { emulatorClient } from "../support/stripe-emulator.ts";

const FILE = new URL("../../downloads/trail-maps.pdf", import.meta.url);

let shop: E2eShop;
let browser: Browser;

describe.skipIf(skipBrowserTests)("a digital product end to end (netlify dev, local Blobs)", () => {
  beforeAll(async () => {
    [shop, browser] = await Promise.all([
      startE2eShop({
        retryDelaysMs: [250, 500, 1000, 2000, 4000, 8000],
        asyncPaymentDelayMs: 0,
        maxInFlight: 4,
      }),
      launchBrowser(),
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    await shop?.stop();
  });

  beforeEach(() => printOutputOnFailure(() => shop));

  it("buy -> receipt -> page -> the file's bytes -> the limit -> refund -> refused", async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(60_000);
    const page = await context.newPage();
    await clickBuy(page, shop.shopUrl, "Printable Trail Maps");
    await fillCheckout(page, { email: "robin@example.com", payment: PAYMENT.card });
    const sessionId = await pay(page, shop.shopUrl);

    // The thank-you page offers the file once the order is fulfilled.
    await thanksState(page, "paid");
    const button = page.locator("#order-status .downloads a");
    await expect(button.allInnerTexts()).resolves.toEqual(["trail-maps.pdf"]);

    // The receipt links the same file through its own download page (it leaves right after the webhook's answer).
    await shop.stripe.idle();
    await expect
      .poll(
        () =>
          emailsAbout(shop.outbox, sessionId).filter((email) => email.to.includes("robin@example.com"))
            .length,
        {
          timeout: 60_000,
        },
      )
      .toBe(1);
    const receipt = emailsAbout(shop.outbox, sessionId).find((email) =>
      email.to.includes("robin@example.com"),
    );
    const link = /https?:\/\/\S+\/download\/\S+/.exec(receipt?.text ?? "")?.[0];
    expect(link, receipt?.text).toBeDefined();
    const url = link as string;

    // Opening the page (as a mail scanner would, twice) uses nothing; the button's transfer gets the bytes.
    for (let i = 0; i < 2; i++) expect(await (await fetch(url)).text()).toContain("5 of 5 downloads left");
    const original = await readFile(FILE);
    const first = await fetch(url, { method: "POST" });
    expect(first.status).toBe(200);
    expect(first.headers.get("content-disposition")).toContain('filename="trail-maps.pdf"');
    expect(Buffer.from(await first.arrayBuffer()).equals(original)).toBe(true);

    // Four more, then the limit.
    for (let i = 0; i < 4; i++) expect((await fetch(url, { method: "POST" })).status).toBe(200);
    const sixth = await fetch(url, { method: "POST" });
    expect(sixth.status).toBe(410);
    expect(await sixth.text()).toContain("Download limit reached");

    // A full refund on Stripe: charge.refunded reaches the webhook, and the next click is refused.
    const stripe = emulatorClient(shop.stripe.url);
    const session = await stripe.checkout.sessions.retrieve(sessionId);
    await stripe.refunds.create({ payment_intent: String(session.payment_intent) });
    await shop.stripe.idle();
    const refused = await fetch(url, { method: "POST" });
    expect(refused.status).toBe(410);
    expect(await refused.text()).toContain("This order was refunded");
    const refundEmails = emailsAbout(shop.outbox, sessionId).filter((email) => /refund/i.test(email.subject));
    expect(refundEmails.map((email) => email.to)).toEqual(
      expect.arrayContaining([["robin@example.com"], ["merchant@shop.localhost"]]),
    );
    await context.close();
  });
});
