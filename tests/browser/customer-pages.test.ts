/**
 * The customer's pages in Chromium, over the real adapters on the local stand-ins: find the order by email, open the
 * sign-in link from the outbox, download a file, ask for the receipt again and find it in the outbox. Each page is
 * axe-clean, works without JavaScript and asks nothing of any other site.
 */
import { readFile } from "node:fs/promises";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orderNumber } from "../../src/order/number.ts";
import { launchBrowser, runAxe, screenshot, skipBrowserTests } from "../support/browser.ts";
import { type CustomerShop, signInLink, startCustomerShop, TRAIL_MAPS_BYTES } from "../support/customer.ts";

let shop: CustomerShop;
let browser: Browser;

/** Every request the page makes, to check none leaves the shop. */
function requestsOf(page: Page): string[] {
  const urls: string[] = [];
  page.on("request", (request) => urls.push(request.url()));
  return urls;
}

describe.skipIf(skipBrowserTests)("the customer's pages in Chromium", () => {
  beforeAll(async () => {
    [shop, browser] = await Promise.all([startCustomerShop(), launchBrowser()]);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await shop?.stop();
  });

  it("find -> sign-in email -> orders -> download -> receipt again, axe-clean on every page", async () => {
    const email = `browser-${Date.now()}@example.com`;
    const sessionId = await shop.buy(email);
    const number = orderNumber(sessionId);
    // axe is injected as a script, which the pages' own policy (no scripts at all) would refuse.
    const context = await browser.newContext({ bypassCSP: true, acceptDownloads: true });
    const page = await context.newPage();
    const requests = requestsOf(page);
    const axe = async (name: string) => {
      expect(await runAxe(page), name).toEqual([]);
      await screenshot(page, `customer-${name}`);
    };

    await page.goto(`${shop.url}/orders`);
    await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toBe("Find your order");
    await axe("find");
    await page.getByLabel("Email address").fill(email);
    await page.getByRole("button", { name: "Email me a sign-in link" }).click();
    await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toBe("Check your email");
    await axe("sent");

    await shop.settle();
    const [signInEmail] = shop.emailsTo(email, "sign-in link");
    await page.goto(signInLink(signInEmail?.text ?? ""));
    await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toBe("Your orders");
    await expect(page.getByRole("heading", { level: 2 }).textContent()).resolves.toBe(`Order ${number}`);
    await axe("orders");

    await page.getByRole("link", { name: "Download trail-maps.pdf" }).click();
    await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toBe("Your download");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download" }).click(),
    ]);
    expect((await readFile(await download.path())).equals(TRAIL_MAPS_BYTES)).toBe(true);
    await page.goBack();

    await page.getByRole("button", { name: "Email me this receipt again" }).click();
    await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toBe("Receipt sent");
    await axe("resent");
    await shop.settle();
    expect(shop.emailsTo(email, `order ${number}`)).toHaveLength(2);

    await page.getByRole("link", { name: "Back to your orders" }).click();
    await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toBe("Your orders");
    expect(requests.filter((url) => !url.startsWith(shop.url))).toEqual([]);
    await context.close();
  });

  it("asks for a link without JavaScript, and shows a link that is not valid with the form for a new one, axe-clean", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${shop.url}/orders`);
    await page.getByLabel("Email address").fill(`nobody-${Date.now()}@example.com`);
    await page.getByRole("button", { name: "Email me a sign-in link" }).click();
    await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toBe("Check your email");
    await context.close();

    const checked = await browser.newContext({ bypassCSP: true });
    const bad = await checked.newPage();
    const response = await bad.goto(`${shop.url}/orders/${"0".repeat(64)}.1.${"A".repeat(43)}`);
    expect(response?.status()).toBe(400);
    await expect(bad.getByRole("button", { name: "Email me a sign-in link" }).count()).resolves.toBe(1);
    expect(await runAxe(bad)).toEqual([]);
    await checked.close();
  });
});
