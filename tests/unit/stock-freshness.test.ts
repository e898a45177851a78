/**
 * "Sold out" within a minute of the last sale: how old the stock answer may be on its way (CDN and instance), plus
 * how long the shop page waits between two questions (public/shop.js), stays within 60 s.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CDN_FRESH_S, CDN_STALE_S, INSTANCE_REUSE_MS } from "../../src/stock/handler.ts";

const shopScript = readFileSync(join(import.meta.dirname, "../../public/shop.js"), "utf8");

describe("how soon a sale shows as sold out", () => {
  it("adds up to at most a minute: the answer's age on the way plus the page's wait between questions", () => {
    const interval = /const STOCK_EVERY_MS = ([\d_]+);/.exec(shopScript)?.[1];
    expect(interval, "public/shop.js names its interval STOCK_EVERY_MS").toBeDefined();
    const pageWaitS = Number(interval?.replaceAll("_", "")) / 1000;
    expect(pageWaitS).toBeGreaterThan(0);
    expect(CDN_FRESH_S + CDN_STALE_S + INSTANCE_REUSE_MS / 1000 + pageWaitS).toBeLessThanOrEqual(60);
  });
});
