/** The download page in Chromium: readable without JavaScript, axe-clean, and its button delivers the file. */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { serve } from "@hono/node-server";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDownloadHandler } from "../../src/download/handler.ts";
import type { FileStore } from "../../src/fulfilment/ports.ts";
import { fileBlobKey, grantFor, signDownload } from "../../src/order/downloads.ts";
import { emptyRecord, type OrderState } from "../../src/order/ledger.ts";
import { launchBrowser, runAxe, screenshot, skipBrowserTests } from "../support/browser.ts";
import { MemoryDownloadCounter, MemoryLedger } from "../support/fakes.ts";
import { filesShop, TRAIL_MAPS } from "../support/trail-maps.ts";

const SECRET = randomBytes(32).toString("hex");
const CONTENT = Buffer.from("%PDF-1.4 trail maps\n");
const ledger = new MemoryLedger();
const counter = new MemoryDownloadCounter();
const files: FileStore = {
  async open(key) {
    if (key !== fileBlobKey(TRAIL_MAPS.id)) return undefined;
    return { body: new Blob([CONTENT]).stream(), size: CONTENT.byteLength };
  },
  async size(key) {
    return key === fileBlobKey(TRAIL_MAPS.id) ? CONTENT.byteLength : undefined;
  },
};

let browser: Browser;
let base: string;
let close: () => void;

/** A link to the trail maps of a new order in `state`. */
async function link(state: OrderState = "fulfilled") {
  const sessionId = `cs_test_${randomBytes(12).toString("hex")}`;
  await ledger.put(sessionId, "absent", {
    ...emptyRecord(sessionId, Date.now()),
    state,
    files: [TRAIL_MAPS],
  });
  return `${base}/download/${signDownload(grantFor(sessionId, TRAIL_MAPS, Date.now(), 30), SECRET)}`;
}

describe.skipIf(skipBrowserTests)("download page in Chromium", () => {
  beforeAll(async () => {
    const handle = createDownloadHandler(
      { ledger, counter, files, shop: filesShop(), secret: SECRET, now: Date.now, log: () => {} },
      () => {},
    );
    const server = serve({ fetch: handle, port: 0, hostname: "127.0.0.1" });
    await new Promise<void>((resolve) => server.once("listening", resolve));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    close = () => server.close();
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    close?.();
  });

  it("offers the file with its size and the downloads left, and the button delivers it without JavaScript", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, acceptDownloads: true });
    const page = await context.newPage();
    await page.goto(await link());
    await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toBe("Your download");
    await expect(page.locator("main").textContent()).resolves.toContain("5 of 5 downloads left");
    await screenshot(page, "download-page");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("trail-maps.pdf");
    const path = await download.path();
    expect((await readFile(path)).equals(CONTENT)).toBe(true);
    await page.reload();
    await expect(page.locator("main").textContent()).resolves.toContain("4 of 5 downloads left");
    await context.close();
  });

  it.each([
    ["a valid link", () => link()],
    ["a refunded order", () => link("refunded")],
    ["a changed link", async () => `${(await link()).slice(0, -1)}x`],
  ])("has no axe-core violations (%s)", async (_, url) => {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(await url());
    expect(await runAxe(page)).toEqual([]);
    await context.close();
  });
});
