/** The thank-you page in Chromium against canned /api/order-status answers: every status, polling, no-JS, axe. */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import type { Browser, BrowserContextOptions } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parse } from "smol-toml";
import { buildSite } from "../../src/site/build.ts";
import {
  type LocalServer,
  runAxe,
  screenshot,
  serveSite,
  type SiteInBrowser,
  siteInBrowser,
  skipBrowserTests,
} from "../support/browser.ts";

const PAID = {
  status: "paid",
  orderNumber: "7KQ4-M9PX",
  items: [
    { name: "Field Notes & Pencil Set", quantity: 2 },
    { name: '<img src=x onerror="window.pwned=1">', quantity: 1 },
  ],
  total: { amount: 4500, currency: "usd", formatted: "$45.00" },
  email: "j***@example.com",
};
const PROCESSING = {
  status: "processing",
  items: [],
  total: { amount: 0, currency: "usd", formatted: "$0.00" },
  email: null,
};
const UNPAID = {
  ...PAID,
  items: [{ name: "Camp Mug", quantity: 1 }],
  total: { amount: 1800, currency: "eur", formatted: "€18.00" },
  status: "unpaid",
};
const FAILED = { ...UNPAID, status: "failed" };
/** A paid order with files: one real download page, and a hostile link the page must not turn into a button. */
const PAID_WITH_FILES = {
  ...PAID,
  downloads: [
    { name: "trail-maps.pdf", url: "https://shop.example/download/cs_test_x.0123456789abcdef.1.sig" },
    { name: "evil", url: "javascript:window.pwned=1" },
  ],
};
const REFUNDED = { ...PAID, status: "refunded" };

/** The fake clock's start, epoch ms. */
const CLOCK_START = Date.parse("2026-03-02T09:00:00Z");

/** Calls per session id, so tests can see polling. */
const calls = new Map<string, number>();

function orderStatusApi(): Hono {
  const api = new Hono();
  api.get("/api/order-status", (c) => {
    const id = c.req.query("session_id") ?? "";
    const count = (calls.get(id) ?? 0) + 1;
    calls.set(id, count);
    switch (id) {
      case "cs_paid":
        return c.json(PAID);
      case "cs_paid_later":
        return c.json(count === 1 ? PROCESSING : PAID);
      case "cs_processing":
        return c.json(PROCESSING);
      case "cs_unpaid":
        return c.json(UNPAID);
      case "cs_unpaid_then_paid":
        return c.json(count < 3 ? UNPAID : PAID);
      case "cs_unpaid_then_failed":
        return c.json(count < 2 ? UNPAID : FAILED);
      case "cs_failed":
        return c.json(FAILED);
      case "cs_files":
        return c.json(PAID_WITH_FILES);
      case "cs_refunded":
        return c.json(REFUNDED);
      case "cs_missing":
        return c.json({ status: "not_found" }, 404);
      case "cs_busy_then_paid":
        // Two refusals of the client's budget, the second from the platform (no JSON), then the answer.
        if (count === 1)
          return c.json({ error: "rate_limited" }, 429, { "retry-after": "7", "cache-control": "no-store" });
        if (count === 2) return c.text("Too Many Requests", 429, { "retry-after": "3" });
        return c.json(PAID);
      case "cs_always_busy":
        return c.json({ error: "rate_limited" }, 429, { "retry-after": "60" });
      case "cs_broken":
        return c.json({ error: "upstream unavailable" }, 502);
      default:
        return c.json({ error: "session_id must be a Checkout Session id (cs_...)" }, 400);
    }
  });
  return api;
}

let shown: SiteInBrowser;
let site: LocalServer;
let browser: Browser;

describe.skipIf(skipBrowserTests)("thank-you page in Chromium", () => {
  beforeAll(async () => {
    shown = await siteInBrowser({ api: orderStatusApi() });
    ({ site, browser } = shown);
  });

  afterAll(() => shown?.close());

  beforeEach(() => calls.clear());

  /**
   * Opens the page with a paused fake clock (polling timers advance only when a test says so) and collects console errors,
   * which include CSP violations. `bypassCSP` is for axe, which Playwright injects as an inline script.
   */
  async function open(query: string, options: BrowserContextOptions = {}) {
    const context = await browser.newContext(options);
    // Notes the page's own (fake) time of each status request, and how many are still being answered.
    await context.addInitScript(() => {
      const record = window as unknown as { polls: number[]; inflight: number };
      record.polls = [];
      record.inflight = 0;
      const original = window.fetch.bind(window);
      window.fetch = (...args) => {
        record.polls.push(Date.now());
        record.inflight++;
        const answer = original(...args);
        answer.then((response) => response.clone().text()).finally(() => record.inflight--);
        return answer;
      };
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("console", (message) => {
      // The canned 4xx/5xx answers are logged by Chromium as failed loads; anything else is a real problem.
      if (message.type() === "error" && !message.text().includes("Failed to load resource"))
        errors.push(message.text());
    });
    if (options.javaScriptEnabled !== false) {
      // Paused: the page's timers run only when a test advances the clock, however slowly the machine responds.
      await page.clock.install({ time: CLOCK_START });
      await page.clock.pauseAt(CLOCK_START + 1_000);
    }
    await page.goto(`${site.url}/thanks${query}`);
    const region = page.locator("#order-status");
    const stateIs = (state: string) =>
      page.waitForSelector(`#order-status[data-state="${state}"]`, { timeout: 60_000 });
    const polls = () => page.evaluate(() => (window as unknown as { polls: number[] }).polls);
    /** Resolves once the page has handled an answer to every request it made (its `data-checks` count). */
    const settled = () =>
      page.waitForFunction(
        () =>
          Number(document.getElementById("order-status")?.dataset.checks ?? 0) ===
          (window as unknown as { polls: number[] }).polls.length,
        undefined,
        { timeout: 60_000 },
      );
    /** Advances the page's clock by `ms` in slices, letting each answer be handled before the next slice. */
    const advance = async (ms: number, slice = 2_500) => {
      await settled();
      for (let done = 0; done < ms; done += slice) {
        await page.clock.runFor(Math.min(slice, ms - done));
        await settled();
      }
    };
    /** Checks that the page logged no errors (CSP violations included), then closes it. */
    const closeWithoutErrors = async () => {
      expect(errors).toEqual([]);
      await context.close();
    };
    return {
      page,
      region,
      errors,
      stateIs,
      polls,
      advance,
      close: () => context.close(),
      closeWithoutErrors,
    };
  }

  it("paid: confirms the order with items, total and the masked email, as text only", async () => {
    const { page, region, stateIs, closeWithoutErrors } = await open("?session_id=cs_paid");
    await stateIs("paid");
    await expect(region.getByRole("heading", { level: 1 }).textContent()).resolves.toBe(
      "Thank you, your order is confirmed",
    );
    await expect(region.locator("li").allInnerTexts()).resolves.toEqual([
      "2 × Field Notes & Pencil Set",
      '1 × <img src=x onerror="window.pwned=1">',
    ]);
    await expect(region.locator("img").count()).resolves.toBe(0);
    await expect(page.evaluate(() => "pwned" in window)).resolves.toBe(false);
    await expect(region.textContent()).resolves.toContain("Total: $45.00");
    await expect(region.locator(".order-number").textContent()).resolves.toBe("Order number: 7KQ4-M9PX");
    await expect(region.textContent()).resolves.toContain("A receipt is on its way to j***@example.com.");
    await expect(page.title()).resolves.toBe("Thank you, your order is confirmed · Trailhead Goods");
    await screenshot(page, "thanks-paid");
    await closeWithoutErrors();
  });

  it("paid: takes session_id out of the address bar, and a reload still shows the order", async () => {
    const { page, stateIs, region, closeWithoutErrors } = await open(
      "?session_id=cs_paid&utm_source=stripe#top",
    );
    const referers: (string | null)[] = [];
    page.on("request", (request) => {
      if (request.url().includes("/api/order-status")) referers.push(request.headers()["referer"] ?? null);
    });
    await stateIs("paid");
    expect(page.url()).toBe(`${site.url}/thanks?utm_source=stripe#top`);
    // Its own history entry no longer holds the id either.
    await expect(page.evaluate(() => window.location.search)).resolves.toBe("?utm_source=stripe");

    await page.reload();
    await stateIs("paid");
    await expect(region.locator(".order-number").textContent()).resolves.toBe("Order number: 7KQ4-M9PX");
    expect(page.url()).not.toContain("session_id");
    expect(calls.get("cs_paid")).toBe(2);
    // The address was cleaned before the page asked: no request carried the id in a Referer.
    for (const referer of referers) expect(referer ?? "").not.toContain("session_id");
    await closeWithoutErrors();
  });

  it("keeps the id to itself: a new tab opened on the bare /thanks knows no order", async () => {
    const { page, stateIs, close } = await open("?session_id=cs_paid");
    await stateIs("paid");
    // sessionStorage is per tab: the same address in another page of the same browser starts without the id.
    const other = await page.context().newPage();
    await other.goto(`${site.url}/thanks`);
    await other.waitForSelector('#order-status[data-state="invalid"]');
    expect(calls.get("cs_paid")).toBe(1);
    await close();
  });

  it("is served with netlify.toml's headers: no Referer at all, and Chromium accepts every policy", async () => {
    // serveSite applies a `_headers` file as Netlify would; netlify.toml is where the site's headers live, so its
    // rules are written out in that form for this server only.
    const config = parse(await readFile("netlify.toml", "utf8")) as {
      headers: { for: string; values: Record<string, string> }[];
    };
    const dir = await mkdtemp(join(tmpdir(), "linkshop-thanks-headers-"));
    await buildSite({ root: process.cwd(), outDir: join(dir, "dist"), linksFile: join(dir, "none.json") });
    await writeFile(
      join(dir, "dist", "_headers"),
      config.headers
        .map((rule) => [rule.for, ...Object.entries(rule.values).map(([k, v]) => `  ${k}: ${v}`)].join("\n"))
        .join("\n"),
    );
    // What reaches the server: the Referer of every request, page, assets and the status request alike.
    const referers: (string | null)[] = [];
    const api = new Hono();
    api.use(async (c, next) => {
      referers.push(c.req.header("referer") ?? null);
      await next();
    });
    api.get("/api/order-status", (c) => c.json(PAID));
    const served = await serveSite(join(dir, "dist"), api);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error" || message.type() === "warning") problems.push(message.text());
      });
      const response = await page.goto(`${served.url}/thanks?session_id=cs_paid`);
      await page.waitForSelector('#order-status[data-state="paid"]');
      expect(response?.headers()).toMatchObject({
        "referrer-policy": "no-referrer",
        "strict-transport-security": "max-age=31536000; includeSubDomains",
        "permissions-policy": expect.stringContaining("payment=()"),
        "content-security-policy": expect.stringContaining("script-src 'self'"),
      });
      expect(page.url()).toBe(`${served.url}/thanks`);
      expect(referers.length).toBeGreaterThan(2);
      expect(referers).toEqual(referers.map(() => null));
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await served.close();
    }
  });

  it("paid with files: a download button per file, each opening its download page; nothing else becomes a link", async () => {
    const { page, region, stateIs, closeWithoutErrors } = await open("?session_id=cs_files");
    await stateIs("paid");
    await expect(region.getByRole("heading", { level: 2 }).textContent()).resolves.toBe("Your downloads");
    const buttons = region.locator(".downloads a");
    await expect(buttons.allInnerTexts()).resolves.toEqual(["trail-maps.pdf"]);
    await expect(buttons.first().getAttribute("href")).resolves.toBe(PAID_WITH_FILES.downloads[0]?.url);
    await expect(buttons.first().getAttribute("rel")).resolves.toBe("noreferrer");
    await expect(page.evaluate(() => "pwned" in window)).resolves.toBe(false);
    await screenshot(page, "thanks-downloads");
    await closeWithoutErrors();
  });

  it("refunded: says so, with the order, and offers no downloads", async () => {
    const { region, stateIs, close } = await open("?session_id=cs_refunded");
    await stateIs("refunded");
    await expect(region.getByRole("heading", { level: 1 }).textContent()).resolves.toBe(
      "This order was refunded",
    );
    await expect(region.locator(".downloads").count()).resolves.toBe(0);
    await close();
  });

  it("processing: says it is confirming, polls every 1.5 s and shows the order once paid", async () => {
    const { page, region, stateIs, close } = await open("?session_id=cs_paid_later");
    await stateIs("processing");
    await expect(region.getByRole("heading").textContent()).resolves.toBe("Confirming your payment…");
    await screenshot(page, "thanks-processing");
    expect(calls.get("cs_paid_later")).toBe(1);
    await page.clock.runFor(1500);
    await stateIs("paid");
    expect(calls.get("cs_paid_later")).toBe(2);
    await close();
  });

  it("processing for more than 30 s: stops polling with a calm message", async () => {
    const { page, region, stateIs, close } = await open("?session_id=cs_processing");
    await stateIs("processing");
    await page.clock.runFor(30_000);
    await stateIs("slow");
    await expect(region.textContent()).resolves.toContain("your payment is safe with Stripe");
    const polls = calls.get("cs_processing") ?? 0;
    expect(polls).toBeGreaterThan(1);
    await page.clock.runFor(10_000);
    expect(calls.get("cs_processing")).toBe(polls);
    await screenshot(page, "thanks-slow");
    await close();
  });

  it.each([
    [
      "cs_unpaid",
      "unpaid",
      "Your payment is pending",
      "We'll email your receipt as soon as the payment goes through",
    ],
    ["cs_missing", "not_found", "We couldn't find that order", "your receipt will arrive by email shortly"],
    ["not-a-session", "invalid", "This link doesn't look right", "order reference in the address is missing"],
  ])("%s: shows the %s message", async (sessionId, state, heading, text) => {
    const { page, region, stateIs, closeWithoutErrors } = await open(`?session_id=${sessionId}`);
    await stateIs(state);
    await expect(region.getByRole("heading").textContent()).resolves.toBe(heading);
    await expect(region.textContent()).resolves.toContain(text);
    await screenshot(page, `thanks-${state}`);
    await closeWithoutErrors();
  });

  it("pending: shows the items and total and keeps checking slowly until the payment settles", async () => {
    const { page, region, stateIs, polls, advance, close } = await open("?session_id=cs_unpaid_then_paid");
    await stateIs("unpaid");
    await expect(region.locator("li").allInnerTexts()).resolves.toEqual(["1 × Camp Mug"]);
    await expect(region.textContent()).resolves.toContain("Total: €18.00");
    await screenshot(page, "thanks-unpaid");
    await advance(10_000);
    expect(await polls()).toHaveLength(1);
    await advance(25_000);
    await stateIs("paid");
    expect(await polls()).toHaveLength(3);
    await close();
  });

  it("pending: checks every 15 s for five minutes, then stops", async () => {
    const { stateIs, polls, advance, close } = await open("?session_id=cs_unpaid");
    await stateIs("unpaid");
    await advance(10 * 60_000, 5_000);
    const times = await polls();
    const start = times[0] ?? 0;
    const gaps = times.slice(1).map((at, i) => at - (times[i] ?? 0));
    expect(gaps.every((gap) => gap >= 15_000)).toBe(true);
    expect(times.length).toBeGreaterThanOrEqual(15);
    expect((times.at(-1) ?? 0) - start).toBeLessThanOrEqual(5 * 60_000);
    await advance(5 * 60_000, 60_000);
    expect(await polls()).toHaveLength(times.length);
    await close();
  });

  it("failed: says the delayed payment failed, nothing was charged, and how to order again", async () => {
    const { page, region, stateIs, advance, closeWithoutErrors } = await open(
      "?session_id=cs_unpaid_then_failed",
    );
    await stateIs("unpaid");
    await advance(15_000);
    await stateIs("failed");
    await expect(region.getByRole("heading").textContent()).resolves.toBe("Your payment did not go through");
    await expect(region.textContent()).resolves.toContain("you have not been charged");
    await expect(
      region.getByRole("link", { name: "Place your order again" }).getAttribute("href"),
    ).resolves.toBe("/");
    await screenshot(page, "thanks-failed");
    await closeWithoutErrors();
  });

  it("rate limited: says so calmly, waits as long as Retry-After says, then shows the order", async () => {
    const { page, region, stateIs, polls, advance, closeWithoutErrors } = await open(
      "?session_id=cs_busy_then_paid",
    );
    await stateIs("busy");
    await expect(region.getByRole("heading").textContent()).resolves.toBe("One moment, please");
    await expect(region.textContent()).resolves.toContain("your payment is safe with Stripe");
    await screenshot(page, "thanks-busy");
    // Not before the 7 seconds the answer asked for.
    await advance(6_500, 500);
    expect(await polls()).toHaveLength(1);
    await advance(500, 500);
    expect(await polls()).toHaveLength(2);
    await stateIs("busy");
    await advance(3_000, 500);
    await stateIs("paid");
    const times = await polls();
    expect(times.slice(1).map((at, i) => at - (times[i] ?? 0))).toEqual([7_000, 3_000]);
    await closeWithoutErrors();
  });

  it("rate limited for minutes: asks once a minute, then says it could not check", async () => {
    const { region, stateIs, polls, advance, close } = await open("?session_id=cs_always_busy");
    await stateIs("busy");
    await advance(6 * 60_000, 10_000);
    await stateIs("error");
    await expect(region.getByRole("heading").textContent()).resolves.toBe(
      "We couldn't check your order right now",
    );
    // Once on arrival and then once a minute, for the five minutes it keeps trying.
    const times = await polls();
    expect(times.map((at) => at - (times[0] ?? 0))).toEqual([0, 1, 2, 3, 4, 5].map((m) => m * 60_000));
    await close();
  });

  it("without a session_id explains the link without asking the API", async () => {
    const { region, stateIs, close } = await open("");
    await stateIs("invalid");
    await expect(region.getByRole("heading").textContent()).resolves.toBe("This link doesn't look right");
    expect(calls.size).toBe(0);
    await close();
  });

  it("keeps retrying a failing API quietly, then says it could not check", async () => {
    const { region, stateIs, advance, close } = await open("?session_id=cs_broken");
    // In slices, each answer arriving before the next: how the page retries does not race the test's clock.
    await advance(30_000, 1_500);
    await stateIs("error");
    await expect(region.getByRole("heading").textContent()).resolves.toBe(
      "We couldn't check your order right now",
    );
    expect(calls.get("cs_broken")).toBeGreaterThan(1);
    await close();
  });

  it('links "Lost your receipt? Find your order" to the find-my-order page, with or without JavaScript', async () => {
    for (const javaScriptEnabled of [true, false]) {
      const { page, close } = await open("?session_id=cs_paid", { javaScriptEnabled });
      // Once beside the order and once in the footer, as on every page of the shop.
      const links = page.getByRole("link", { name: "Lost your receipt? Find your order" });
      await expect(
        links.evaluateAll((anchors) => anchors.map((a) => a.getAttribute("href"))),
      ).resolves.toEqual(["/orders", "/orders"]);
      await expect(
        page
          .getByRole("contentinfo")
          .getByRole("link", { name: /Find your order/ })
          .count(),
      ).resolves.toBe(1);
      await close();
    }
  });

  it("without JavaScript shows the noscript explanation and hides the status region", async () => {
    const { page, region, close } = await open("?session_id=cs_paid", { javaScriptEnabled: false });
    await expect(region.isHidden()).resolves.toBe(true);
    // Playwright's text locators skip <noscript>, so address its elements directly.
    await expect(page.locator("noscript h1").isVisible()).resolves.toBe(true);
    await expect(page.locator("noscript h1").textContent()).resolves.toBe("Thank you for your order");
    await expect(page.locator("noscript p").first().textContent()).resolves.toContain(
      "Turn on JavaScript to see your order's status here.",
    );
    await screenshot(page, "thanks-noscript");
    expect(calls.size).toBe(0);
    await close();
  });

  it.each([
    ["cs_paid", "paid"],
    ["cs_files", "paid"],
    ["cs_refunded", "refunded"],
    ["cs_processing", "processing"],
    ["cs_unpaid", "unpaid"],
    ["cs_failed", "failed"],
    ["cs_missing", "not_found"],
    ["cs_always_busy", "busy"],
    ["x", "invalid"],
  ])("has no axe-core violations (%s)", async (sessionId, state) => {
    const { page, stateIs, close } = await open(`?session_id=${sessionId}`, { bypassCSP: true });
    await stateIs(state);
    // axe schedules its own timers; the page may go on polling meanwhile, which changes nothing it checks.
    await page.clock.resume();
    expect(await runAxe(page)).toEqual([]);
    await close();
  });
});

describe.skipIf(skipBrowserTests)("thank-you page of a German shop in Chromium", () => {
  let german: SiteInBrowser;
  let germanSite: LocalServer;
  let germanBrowser: Browser;

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), "linkshop-thanks-de-"));
    const catalog = JSON.parse(await readFile(join(process.cwd(), "catalog.json"), "utf8"));
    catalog.shop = { ...catalog.shop, currency: "eur", locale: "de-DE" };
    await writeFile(join(dir, "catalog.json"), JSON.stringify(catalog));
    const api = new Hono();
    api.get("/api/order-status", (c) =>
      c.req.query("session_id") === "cs_unpaid"
        ? c.json({
            ...UNPAID,
            items: [{ quantity: 1 }],
            total: { amount: 1800, currency: "eur", formatted: "18,00 €" },
          })
        : c.json({ ...PAID, total: { amount: 3000, currency: "eur", formatted: "30,00 €" } }),
    );
    german = await siteInBrowser({ api, catalog: join(dir, "catalog.json") });
    ({ site: germanSite, browser: germanBrowser } = german);
  });

  afterAll(() => german?.close());

  it("says everything in German, with the order number", async () => {
    const page = await germanBrowser.newPage();
    await page.goto(`${germanSite.url}/thanks?session_id=cs_paid`);
    await page.waitForSelector('#order-status[data-state="paid"]');
    const region = page.locator("#order-status");
    await expect(region.getByRole("heading", { level: 1 }).textContent()).resolves.toBe(
      "Vielen Dank, Ihre Bestellung ist bestätigt",
    );
    await expect(region.locator(".order-number").textContent()).resolves.toBe("Bestellnummer: 7KQ4-M9PX");
    await expect(region.textContent()).resolves.toContain("Gesamt: 30,00 €");
    await expect(region.textContent()).resolves.toContain("Eine Quittung ist unterwegs an j***@example.com.");
    await expect(page.locator("a", { hasText: "Zurück zum Shop" }).count()).resolves.toBe(1);
    await expect(page.locator("html").getAttribute("lang")).resolves.toBe("de-DE");
    await expect(page.title()).resolves.toBe("Vielen Dank, Ihre Bestellung ist bestätigt · Trailhead Goods");
    const findOrder = page.getByRole("link", { name: "Quittung verloren? Bestellung finden" });
    await expect(
      findOrder.evaluateAll((anchors) => anchors.map((a) => a.getAttribute("href"))),
    ).resolves.toEqual(["/orders", "/orders"]);
    await page.close();
  });

  it("says a pending payment in German, both paragraphs, and names an unnamed item in German", async () => {
    const page = await germanBrowser.newPage();
    await page.goto(`${germanSite.url}/thanks?session_id=cs_unpaid`);
    await page.waitForSelector('#order-status[data-state="unpaid"]');
    const region = page.locator("#order-status");
    await expect(region.getByRole("heading", { level: 1 }).textContent()).resolves.toBe(
      "Ihre Zahlung ist in Bearbeitung",
    );
    await expect(region.locator("p").allTextContents()).resolves.toEqual([
      "Sie haben eine Zahlungsart gewählt, die etwas Zeit braucht, zum Beispiel eine Lastschrift.",
      "Wir senden Ihre Quittung, sobald die Zahlung eingegangen ist. Sie müssen nichts weiter tun.",
      "Gesamt: 18,00 €",
    ]);
    await expect(region.locator("li").allTextContents()).resolves.toEqual(["1 × Artikel"]);
    await page.close();
  });

  it("has no axe-core violations, and says the noscript text in German", async () => {
    const context = await germanBrowser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${germanSite.url}/thanks?session_id=cs_paid`);
    await page.waitForSelector('#order-status[data-state="paid"]');
    expect(await runAxe(page)).toEqual([]);
    await context.close();

    const noscript = await germanBrowser.newContext({ javaScriptEnabled: false });
    const plain = await noscript.newPage();
    await plain.goto(`${germanSite.url}/thanks?session_id=cs_paid`);
    await expect(plain.locator("noscript h1").textContent()).resolves.toBe("Vielen Dank für Ihre Bestellung");
    await expect(plain.locator("html").getAttribute("lang")).resolves.toBe("de-DE");
    await noscript.close();
  });
});
