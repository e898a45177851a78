/**
 * The storefront's stock in Chromium: products with stock keep Buy until the shop has counted their last sale, then
 * show "Sold out" from GET /api/stock (the real handler over the shop's sales count), with or without a reload.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import type { Browser, BrowserContextOptions, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCatalog } from "../../src/shop/catalog.ts";
import { createStockHandler } from "../../src/stock/handler.ts";
import { currentRun } from "../../src/stock/sales.ts";
import { manualClock, memoryLog } from "../support/fakes.ts";
import { runAxe, type SiteInBrowser, siteInBrowser, skipBrowserTests } from "../support/browser.ts";
import { MemorySales } from "../support/stock.ts";

// The sample catalog with a run of 1 tote and 3 trail maps (both sold one per order).
const STOCK = { "studio-tote": 1, "trail-maps": 3 } as const;
const sample = JSON.parse(await readFile("catalog.json", "utf8")) as { products: Record<string, unknown>[] };
for (const product of sample.products) {
  const stock = STOCK[product.id as keyof typeof STOCK];
  if (stock !== undefined) product.stock = stock;
}
const catalog = parseCatalog(sample);
const LINKS = Object.fromEntries(catalog.products.map((p) => [p.id, `https://buy.stripe.com/test_${p.id}`]));

const sales = new MemorySales();
const clock = manualClock();
/** Counts `count` sales of `productId` at its catalog price, as fulfilment records each paid order. */
async function sell(productId: keyof typeof STOCK, count: number): Promise<void> {
  const product = catalog.products.find((p) => p.id === productId);
  if (!product) throw new Error(productId);
  for (let index = 0; index < count; index += 1)
    await sales.record(currentRun(product), `${productId}-${index}`, STOCK[productId]);
  // Past the instance's reuse of its last answer, as a minute later would be.
  clock.advance(60_000);
}

let dir: string;
let shown: SiteInBrowser;
let browser: Browser;

describe.skipIf(skipBrowserTests)("sold out on the shop page in Chromium", () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "linkshop-stock-"));
    const catalogFile = join(dir, "catalog.json");
    await writeFile(catalogFile, JSON.stringify(sample));
    const stock = createStockHandler({ catalog, sales, now: clock.read }, memoryLog().log);
    const api = new Hono().get("/api/stock", (c) => stock(c.req.raw));
    shown = await siteInBrowser({ api, catalog: catalogFile, links: async () => LINKS });
    browser = shown.browser;
  });

  afterAll(async () => {
    await shown?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function openPage(options: BrowserContextOptions = {}) {
    const context = await browser.newContext(options);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    await page.goto(`${shown.site.url}/`);
    return { page, problems, close: () => context.close() };
  }
  const card = (page: Page, id: string) => page.locator(`article[aria-labelledby="product-${id}"]`);
  const buy = (page: Page, id: string) => card(page, id).getByRole("link", { name: /^Buy/ });
  const soldOut = (page: Page, id: string) => card(page, id).getByText("Sold out", { exact: true });

  it("keeps Buy while units are left, then swaps it for Sold out once the last one is sold", async () => {
    await sell("trail-maps", 2);
    const before = await openPage();
    // Wait for the page's own stock answer before looking: it leaves every Buy in place.
    await before.page.waitForResponse((response) => response.url().endsWith("/api/stock"));
    for (const id of ["studio-tote", "trail-maps", "field-notes", "camp-mug"]) {
      await expect.poll(() => buy(before.page, id).isVisible()).toBe(true);
    }
    await expect.poll(() => soldOut(before.page, "trail-maps").isVisible()).toBe(false);
    await before.close();

    await sell("studio-tote", 1);
    const after = await openPage();
    await expect.poll(() => soldOut(after.page, "studio-tote").isVisible()).toBe(true);
    expect(await buy(after.page, "studio-tote").count()).toBe(0);
    expect(await buy(after.page, "trail-maps").isVisible()).toBe(true);
    // The site's own CSP is in force here, so a blocked request or script would show up in `problems`.
    expect(after.problems).toEqual([]);
    await after.close();

    // Playwright injects axe as an inline script, which the site's CSP rightly blocks; bypass it for this check only.
    const checked = await openPage({ bypassCSP: true });
    await expect.poll(() => soldOut(checked.page, "studio-tote").isVisible()).toBe(true);
    expect(await runAxe(checked.page)).toEqual([]);
    await checked.close();
  });

  it("updates a page that is already open when it comes back into view", async () => {
    const { page, close } = await openPage();
    await expect.poll(() => buy(page, "trail-maps").isVisible()).toBe(true);
    await sell("trail-maps", 3);
    await page.evaluate(() => document.dispatchEvent(new Event("visibilitychange")));
    await expect.poll(() => soldOut(page, "trail-maps").isVisible()).toBe(true);
    expect(await buy(page, "trail-maps").count()).toBe(0);
    await close();
  });

  it("works without JavaScript: every product with a link shows Buy", async () => {
    const { page, close } = await openPage({ javaScriptEnabled: false });
    const hrefs = await page
      .locator("a[data-payment-link]")
      .evaluateAll((anchors) => anchors.map((a) => a.getAttribute("href")));
    expect(hrefs).toEqual(catalog.products.map((p) => LINKS[p.id]));
    expect(await page.getByText("Sold out", { exact: true }).first().isVisible()).toBe(false);
    await close();
  });
});
