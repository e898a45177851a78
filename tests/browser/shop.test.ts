/**
 * The built shop in Chromium: products and Buy links from a real sync, accessibility, keyboard, no-JS, ref passing,
 * and a German shop's page in German.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContextOptions, Page } from "playwright-core";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCatalog } from "../../src/shop/catalog.ts";
import { runCatalogSync } from "../../src/commands/catalog-sync/command.ts";
import { STOCK_PATH } from "../../src/site/render.ts";
import { type StripeEmulator, startStripeEmulator } from "../../dev/stripe-emulator/index.ts";
import type { LocalServer } from "../support/http.ts";
import {
  runAxe,
  screenshot,
  type SiteInBrowser,
  siteInBrowser,
  skipBrowserTests,
} from "../support/browser.ts";

const catalog = parseCatalog(JSON.parse(await readFile("catalog.json", "utf8")));
// One product is left without a link so the page shows both states.
const UNLINKED = "studio-tote";

let emulator: StripeEmulator;
let shown: SiteInBrowser;
let site: LocalServer;
let browser: Browser;
let links: Record<string, string>;

/** Syncs the catalog into the emulator for a site at `siteUrl`: every product's link, but UNLINKED's. */
async function syncedLinks(siteUrl: string): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), "linkshop-shop-"));
  try {
    const out: string[] = [];
    const io = { out: (line: string) => out.push(line), err: (line: string) => out.push(line) };
    const env = { STRIPE_SECRET_KEY: "sk_test_browser", STRIPE_API_BASE: emulator.url };
    const code = await runCatalogSync(["--out", join(dir, "links.json"), "--site-url", siteUrl], env, io);
    expect(code, out.join("\n")).toBe(0);
    const synced = JSON.parse(await readFile(join(dir, "links.json"), "utf8")) as Record<string, string>;
    links = Object.fromEntries(Object.entries(synced).filter(([id]) => id !== UNLINKED));
    return links;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe.skipIf(skipBrowserTests)("shop page in Chromium", () => {
  beforeAll(async () => {
    emulator = await startStripeEmulator();
    shown = await siteInBrowser({ links: syncedLinks });
    ({ site, browser } = shown);
  });

  afterAll(async () => {
    await shown?.close();
    await emulator?.close();
  });

  /** A page that records console errors (CSP violations included) and requests to other origins. */
  async function openPage(path: string, options: BrowserContextOptions = {}) {
    const context = await browser.newContext(options);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    page.on("request", (request) => {
      if (!request.url().startsWith(site.url) && request.isNavigationRequest() === false) {
        problems.push(`third-party request: ${request.url()}`);
      }
    });
    const response = await page.goto(`${site.url}${path}`);
    return { page, response, problems, close: () => context.close() };
  }

  const card = (page: Page, name: string) =>
    page.locator("article.card").filter({ has: page.getByRole("heading", { name }) });

  it("shows every product with its picture, price and a Buy link to its own Payment Link", async () => {
    const { page, response, problems, close } = await openPage("/");
    // The site's own CSP is in force, so a blocked inline script or style would show up in `problems`.
    expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");
    await expect(page.title()).resolves.toBe(catalog.shop.name);
    for (const product of catalog.products) {
      const item = card(page, product.name);
      const image = item.locator("img");
      expect(await image.getAttribute("alt")).toBe(product.images[0]?.alt);
      expect(await image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(
        true,
      );
      expect(await item.locator(".price").textContent()).toContain(
        new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(
          product.price.amount / 100,
        ),
      );
      if (product.id === UNLINKED) {
        expect(await item.getByText("Unavailable").isVisible()).toBe(true);
        expect(await item.locator("a").count()).toBe(0);
      } else {
        expect(await item.getByRole("link", { name: `Buy ${product.name}` }).getAttribute("href")).toBe(
          links[product.id],
        );
      }
    }
    expect(problems).toEqual([]);
    await close();
  });

  it("Buy opens the product's hosted checkout page", async () => {
    const { page, close } = await openPage("/");
    const first = catalog.products[0];
    // The Payment Link URL starts a Checkout Session and redirects to its page, as on Stripe.
    const [response] = await Promise.all([
      page.waitForNavigation({ url: (url) => url.origin === emulator.url }),
      card(page, first?.name ?? "")
        .getByRole("link")
        .click(),
    ]);
    expect(response?.status()).toBe(200);
    await expect(
      page
        .getByText(first?.name ?? "")
        .first()
        .isVisible(),
    ).resolves.toBe(true);
    await screenshot(page, "shop-buy-checkout");
    await close();
  });

  it.each([
    ["desktop", { width: 1280, height: 900 }],
    ["mobile", { width: 390, height: 844 }],
  ])("has no axe-core violations (%s)", async (name, viewport) => {
    // Playwright injects axe as an inline script, which the site's CSP rightly blocks; bypass it for this check only.
    const { page, close } = await openPage("/", { viewport, bypassCSP: true });
    await screenshot(page, `shop-${name}`);
    expect(await runAxe(page)).toEqual([]);
    await close();
  });

  it("lays the grid out in one column on a phone and several on a desktop", async () => {
    const columns = async (width: number) => {
      const { page, close } = await openPage("/", { viewport: { width, height: 900 } });
      const lefts = await page
        .locator("ul.products > li")
        .evaluateAll((items) => items.map((item) => item.getBoundingClientRect().left));
      await close();
      return new Set(lefts).size;
    };
    expect(await columns(390)).toBe(1);
    expect(await columns(1280)).toBeGreaterThan(1);
  });

  it("lets keyboard users skip to the content, with a visible focus ring", async () => {
    const { page, close } = await openPage("/");
    await page.keyboard.press("Tab");
    const skip = page.getByRole("link", { name: "Skip to main content" });
    await expect(skip.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    const box = await skip.boundingBox();
    expect(box?.y).toBeGreaterThanOrEqual(0);
    const outline = await skip.evaluate((el) => getComputedStyle(el).outlineStyle);
    expect(outline).not.toBe("none");
    await page.keyboard.press("Enter");
    expect(new URL(page.url()).hash).toBe("#main");
    await close();
  });

  it("works without JavaScript: the Buy links are plain links", async () => {
    const { page, close } = await openPage("/", { javaScriptEnabled: false });
    const hrefs = await page
      .locator("a[data-payment-link]")
      .evaluateAll((anchors) => anchors.map((a) => a.getAttribute("href")));
    expect(hrefs).toEqual(catalog.products.filter((p) => p.id !== UNLINKED).map((p) => links[p.id]));
    await close();
  });

  it("passes ?email= and ?ref= on to the Payment Links as prefilled_email and client_reference_id", async () => {
    const { page, close } = await openPage("/?email=ana%40example.com&ref=spring_news");
    const hrefs = await page
      .locator("a[data-payment-link]")
      .evaluateAll((anchors) => anchors.map((a) => (a as HTMLAnchorElement).href));
    for (const href of hrefs) {
      const url = new URL(href);
      expect(url.searchParams.get("prefilled_email")).toBe("ana@example.com");
      expect(url.searchParams.get("client_reference_id")).toBe("spring_news");
    }
    await close();

    const bad = await openPage("/?email=not-an-email&ref=%3Cscript%3E");
    const untouched = await bad.page
      .locator("a[data-payment-link]")
      .evaluateAll((anchors) => anchors.map((a) => a.getAttribute("href")));
    expect(untouched).toEqual(catalog.products.filter((p) => p.id !== UNLINKED).map((p) => links[p.id]));
    await bad.close();
  });
});

// The sample catalog sold in euros by a German shop, with a run of trail maps already sold out and the tote without a
// Payment Link: every kind of card the page can show.
const SOLD_OUT = "trail-maps";
const germanSource = JSON.parse(await readFile("catalog.json", "utf8")) as {
  shop: Record<string, unknown>;
  products: Record<string, unknown>[];
};
germanSource.shop = { ...germanSource.shop, currency: "eur", locale: "de-DE" };
for (const product of germanSource.products) if (product.id === SOLD_OUT) product.stock = 5;
const germanCatalog = parseCatalog(germanSource);

describe.skipIf(skipBrowserTests)("a German shop in Chromium", () => {
  let dir: string;
  let german: SiteInBrowser;
  const germanLinks = Object.fromEntries(
    germanCatalog.products
      .filter((product) => product.id !== UNLINKED)
      .map((product) => [product.id, `https://buy.stripe.com/test_${product.id}`]),
  );
  const euros = (amount: number) =>
    new Intl.NumberFormat("de-DE", { style: "currency", currency: "EUR" }).format(amount / 100);
  /** What the English page says around the products: none of it may show on the German page. */
  const ENGLISH = [
    "Skip to main content",
    "Pick something you like",
    "Buy",
    "Price",
    "Unavailable",
    "Sold out",
    "Digital download",
    "Ships to",
    "Questions about an order?",
    "Find your order",
    "Payments are processed securely",
  ];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "linkshop-shop-de-"));
    const catalogFile = join(dir, "catalog.json");
    await writeFile(catalogFile, JSON.stringify(germanSource));
    const api = new Hono().get(STOCK_PATH, (c) => c.json({ soldOut: [SOLD_OUT] }));
    german = await siteInBrowser({ api, catalog: catalogFile, links: async () => germanLinks });
  });

  afterAll(async () => {
    await german?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A page of the German site that records console errors (CSP violations included) and third-party requests. */
  async function openGerman(options: BrowserContextOptions = {}) {
    const context = await german.browser.newContext(options);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    page.on("request", (request) => {
      if (!request.url().startsWith(german.site.url)) problems.push(`third-party request: ${request.url()}`);
    });
    await page.goto(`${german.site.url}/`);
    return { page, problems, close: () => context.close() };
  }

  const germanCard = (page: Page, name: string) =>
    page.locator("article.card").filter({ has: page.getByRole("heading", { name }) });

  it('says everything in German, with lang="de-DE" and "Quittung verloren? Bestellung finden" in the footer', async () => {
    const { page, problems, close } = await openGerman();
    await expect(page.locator("html").getAttribute("lang")).resolves.toBe("de-DE");
    await expect(page.getByRole("link", { name: "Zum Inhalt springen" }).count()).resolves.toBe(1);
    await expect(page.locator(".intro p").textContent()).resolves.toBe(
      "Suchen Sie sich etwas aus und bezahlen Sie sicher über Stripe. Die Quittung kommt per E-Mail.",
    );
    // The page's script has asked for the stock and swapped the sold-out run's Buy for its label.
    await germanCard(page, "Printable Trail Maps").getByText("Ausverkauft").waitFor();
    for (const product of germanCatalog.products) {
      const item = germanCard(page, product.name);
      await expect(item.locator(".price").textContent()).resolves.toBe(
        `Preis: ${euros(product.price.amount)}`,
      );
      if (product.id === UNLINKED) {
        await expect(item.getByText("Nicht erhältlich").isVisible()).resolves.toBe(true);
      } else if (product.id === SOLD_OUT) {
        await expect(item.locator("a").count()).resolves.toBe(0);
      } else {
        const buy = item.getByRole("link");
        await expect(buy.textContent()).resolves.toBe(
          `Kaufen ${product.name} für ${euros(product.price.amount)}`,
        );
        await expect(buy.getAttribute("href")).resolves.toBe(germanLinks[product.id]);
      }
    }
    await expect(
      germanCard(page, "Printable Trail Maps").getByText("Digitaler Download").isVisible(),
    ).resolves.toBe(true);
    await expect(
      germanCard(page, "Enamel Camp Mug")
        .getByText("Versand in folgende Länder: Vereinigte Staaten und Kanada.")
        .isVisible(),
    ).resolves.toBe(true);
    const footer = page.getByRole("contentinfo");
    const findOrder = footer.getByRole("link", { name: "Quittung verloren? Bestellung finden" });
    await expect(findOrder.getAttribute("href")).resolves.toBe("/orders");
    await expect(footer.textContent()).resolves.toContain("Fragen zu einer Bestellung?");
    await expect(footer.textContent()).resolves.toContain("Zahlungen werden sicher von Stripe abgewickelt.");
    const text = (await page.locator("body").textContent()) ?? "";
    for (const english of ENGLISH) expect(text).not.toContain(english);
    await screenshot(page, "shop-de");
    expect(problems).toEqual([]);
    await close();
  });

  it("follows the footer's link to the find-my-order page", async () => {
    const { page, close } = await openGerman();
    const [request] = await Promise.all([
      page.waitForRequest((request) => request.isNavigationRequest()),
      page.getByRole("link", { name: "Quittung verloren? Bestellung finden" }).click(),
    ]);
    expect(new URL(request.url()).pathname).toBe("/orders");
    await close();
  });

  it("has no axe-core violations", async () => {
    // Playwright injects axe as an inline script, which the site's CSP rightly blocks; bypass it for this check only.
    const { page, close } = await openGerman({ bypassCSP: true });
    await germanCard(page, "Printable Trail Maps").getByText("Ausverkauft").waitFor();
    expect(await runAxe(page)).toEqual([]);
    await close();
  });

  it("says the same without JavaScript: German words, plain Buy links, the footer's link", async () => {
    const { page, close } = await openGerman({ javaScriptEnabled: false });
    await expect(page.locator("html").getAttribute("lang")).resolves.toBe("de-DE");
    const buys = await page
      .locator("a[data-payment-link]")
      .evaluateAll((anchors) => anchors.map((a) => [a.textContent, a.getAttribute("href")]));
    // Without the script no stock is asked: the sold-out run keeps Buy, and Stripe's page says it has stopped.
    expect(buys).toEqual(
      germanCatalog.products
        .filter((product) => product.id !== UNLINKED)
        .map((product) => [
          `Kaufen ${product.name} für ${euros(product.price.amount)}`,
          germanLinks[product.id],
        ]),
    );
    await expect(
      page
        .getByRole("contentinfo")
        .getByRole("link", { name: "Quittung verloren? Bestellung finden" })
        .getAttribute("href"),
    ).resolves.toBe("/orders");
    await close();
  });
});
