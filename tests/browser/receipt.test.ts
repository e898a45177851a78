/** The receipt email as a mail client shows it: Chromium at 600 px (desktop) and 390 px (phone), images on and off. */
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../src/shop/catalog.ts";
import { renderReceipt } from "../../src/email/templates.ts";
import type { Order } from "../../src/order/model.ts";
import { orderNumber } from "../../src/order/number.ts";
import { type ShopInfo, shopInfo } from "../../src/shop/info.ts";
import { screenshot, type SiteInBrowser, siteInBrowser, skipBrowserTests } from "../support/browser.ts";

const SESSION = "cs_test_b1Receipt0000000000000000000000000000000000000000000000";

/** A realistic order from the sample catalog: pictures, a long name, a discount, shipping and a US address. */
const order: Order = {
  sessionId: SESSION,
  orderNumber: orderNumber(SESSION),
  createdAt: Date.parse("2026-03-14T09:26:53Z"),
  currency: "usd",
  customerEmail: "sam.rivera@example.com",
  customerName: "Sam Rivera",
  items: [
    {
      name: "Field Notes & Pencil Set",
      quantity: 2,
      unitAmount: 1800,
      amount: 3600,
      productId: "field-notes",
    },
    {
      name: "Enamel Camp Mug",
      quantity: 1,
      unitAmount: 2400,
      amount: 2400,
      productId: "camp-mug",
    },
    {
      name: "Printable Trail Maps",
      quantity: 1,
      unitAmount: 900,
      amount: 900,
      productId: "trail-maps",
    },
  ],
  subtotal: 6900,
  discount: 690,
  shipping: 500,
  tax: 0,
  taxIncluded: false,
  total: 6710,
  shippingAddress: {
    name: "Sam Rivera",
    line1: "1200 Pearl Street",
    line2: "Apartment 4B",
    city: "Boulder",
    state: "CO",
    postalCode: "80302",
    country: "US",
  },
  livemode: false,
};

let shown: SiteInBrowser;
let browser: Browser;
let shop: ShopInfo;

describe.skipIf(skipBrowserTests)("receipt email in Chromium", () => {
  beforeAll(async () => {
    shown = await siteInBrowser();
    browser = shown.browser;
    // The pictures load from the built site, as they would from the deployed one.
    shop = shopInfo(await loadCatalog(join(process.cwd(), "catalog.json")), shown.site.url);
  });

  afterAll(() => shown?.close());

  it.each([
    [600, "en-US"],
    [390, "en-US"],
    [390, "de-DE"],
  ])(
    "fits %i px without sideways scrolling, every picture loaded with alt text (%s)",
    async (width, locale) => {
      const page = await browser.newPage({ viewport: { width, height: 800 } });
      await page.setContent(renderReceipt(order, { ...shop, locale }).html, { waitUntil: "load" });
      const layout = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
        images: [...document.images].map((img) => ({
          alt: img.alt,
          loaded: img.complete && img.naturalWidth > 0,
          right: img.getBoundingClientRect().right,
        })),
      }));
      expect(layout.scrollWidth).toBeLessThanOrEqual(layout.clientWidth);
      expect(layout.images.length).toBe(3);
      for (const image of layout.images) {
        expect(image.alt.trim()).not.toBe("");
        expect(image.loaded).toBe(true);
        expect(image.right).toBeLessThanOrEqual(width);
      }
      await expect(page.locator("body").textContent()).resolves.toContain(order.orderNumber);
      await screenshot(page, `receipt-${width}-${locale}`);
      await page.close();
    },
  );

  it("stays readable with images off: alt text stands in and nothing overflows", async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 800 } });
    const page = await context.newPage();
    // Mail clients that block remote images: every image request fails.
    await page.route("**/*.png", (route) => route.abort());
    await page.setContent(renderReceipt(order, shop).html, { waitUntil: "load" });
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await expect(
      page.getByAltText("A brown and a blue pocket notebook beside a yellow pencil").count(),
    ).resolves.toBe(1);
    await expect(page.getByText("Total").count()).resolves.toBeGreaterThan(0);
    await screenshot(page, "receipt-390-images-off");
    await context.close();
  });
});
