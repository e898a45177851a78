/**
 * Stock as the shop counts it, on a real Redis through the Upstash bridge: each paid order counts once per run, the
 * merchant hears once when a run is oversold, and GET /api/stock answers only the sold-out ids, cacheable by the CDN.
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisClient } from "../../src/adapters/upstash.ts";
import { upstashSales } from "../../src/adapters/upstash-stock.ts";
import { stockFromEnv } from "../../src/app/stock.ts";
import type { Order } from "../../src/order/model.ts";
import { type Catalog, parseCatalog } from "../../src/shop/catalog.ts";
import { createStockHandler, STOCK_HEADERS } from "../../src/stock/handler.ts";
import { currentRun, recordSales, type SalesStore, soldOutProducts } from "../../src/stock/sales.ts";
import { startUpstashBridge, type UpstashBridge } from "../../dev/upstash-bridge.ts";
import { manualClock, memoryLog } from "../support/fakes.ts";
import { redisBackend } from "../support/redis.ts";
import { MemorySales, RecordingNotifier } from "../support/stock.ts";

const catalog: Catalog = parseCatalog({
  shop: { name: "Trailhead", currency: "usd", supportEmail: "help@trailhead.example" },
  products: [
    { id: "camp-mug", name: "Camp Mug", description: "Enamel.", price: { amount: 2400 }, stock: 2 },
    { id: "tote", name: "Tote", description: "Canvas.", price: { amount: 3200 }, stock: 3 },
    { id: "notes", name: "Notes", description: "Paper.", price: { amount: 1800 } },
  ],
});

/** A paid order of one unit of each product, at `unitAmount` (the catalog's price by default). */
function orderOf(number: string, productIds: string[], unitAmount?: number): Order {
  const items = productIds.map((productId) => {
    const price = catalog.products.find((product) => product.id === productId)?.price.amount ?? 100;
    const amount = unitAmount ?? price;
    return { name: productId, quantity: 1, unitAmount: amount, amount, productId };
  });
  const total = items.reduce((sum, item) => sum + item.amount, 0);
  return {
    sessionId: `cs_test_${number}`,
    orderNumber: number,
    createdAt: 1_700_000_000_000,
    currency: "usd",
    customerEmail: "jenny@example.com",
    customerName: undefined,
    items,
    subtotal: total,
    discount: 0,
    shipping: 0,
    tax: 0,
    taxIncluded: false,
    total,
    shippingAddress: undefined,
    livemode: false,
  };
}

/** The store with a count of its `counts` reads (one Redis command each). */
function countingReads(store: SalesStore): SalesStore & { reads: number } {
  const counted = {
    reads: 0,
    record: store.record.bind(store),
    clearAlert: store.clearAlert.bind(store),
    counts: (runs: string[]) => {
      counted.reads += 1;
      return store.counts(runs);
    },
  };
  return counted;
}

let bridge: UpstashBridge;
let redis: Redis;
const prefixes: string[] = [];
/** A fresh store under its own key prefix. */
function freshSales(): SalesStore {
  const prefix = `linkshop-test:${randomUUID()}:`;
  prefixes.push(prefix);
  return upstashSales(redis, prefix);
}

beforeAll(async () => {
  bridge = await startUpstashBridge({ token: randomUUID(), backend: redisBackend, onWarning: () => {} });
  redis = createRedisClient(bridge.url, bridge.token);
});

afterAll(async () => {
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  await bridge?.close();
});

describe("the sales count", () => {
  it.each([
    ["Redis (through the Upstash bridge)", () => freshSales()],
    ["the in-memory fake", () => new MemorySales()],
  ])("counts each order once per run, and marks the alert once past the stock: %s", async (_, make) => {
    const sales = make();
    expect(await sales.record("mug:usd:2400", "AAAA-0001", 2)).toEqual({ sold: 1, alert: false });
    expect(await sales.record("mug:usd:2400", "AAAA-0001", 2)).toEqual({ sold: 1, alert: false });
    expect(await sales.record("mug:usd:2400", "AAAA-0002", 2)).toEqual({ sold: 2, alert: false });
    expect(await sales.record("mug:usd:2400", "AAAA-0003", 2)).toEqual({ sold: 3, alert: true });
    expect(await sales.record("mug:usd:2400", "AAAA-0004", 2)).toEqual({ sold: 4, alert: false });
    // Taken back (the alert could not be queued), the mark goes to the next record, even a retry of the same order.
    await sales.clearAlert("mug:usd:2400", 2);
    expect(await sales.record("mug:usd:2400", "AAAA-0004", 2)).toEqual({ sold: 4, alert: true });
    // The merchant raised the stock (the sync reopens the link): oversold again past the new stock, told again.
    expect(await sales.record("mug:usd:2400", "AAAA-0005", 4)).toEqual({ sold: 5, alert: true });
    expect(await sales.record("mug:usd:2400", "AAAA-0006", 4)).toEqual({ sold: 6, alert: false });
    expect(await sales.counts(["mug:usd:2400", "mug:usd:2600", "tote:usd:3200"])).toEqual([6, 0, 0]);
  });

  it("counts concurrent orders exactly, and alerts exactly once", async () => {
    const sales = freshSales();
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, index) => sales.record("drop:usd:900", `DROP-${index}`, 20)),
    );
    expect(await sales.counts(["drop:usd:900"])).toEqual([30]);
    expect(results.filter((result) => result.alert)).toHaveLength(1);
    expect(results.map((result) => result.sold).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 30 }, (_, index) => index + 1),
    );
  });
});

describe("recordSales", () => {
  it("counts only products with stock, at the price they sold for, and tells the merchant once when oversold", async () => {
    const sales = freshSales();
    const notifier = new RecordingNotifier();
    const { entries, log } = memoryLog();
    const deps = { catalog, sales, notifier, log };
    await recordSales(orderOf("ORDR-0001", ["camp-mug", "notes"]), deps);
    await recordSales(orderOf("ORDR-0001", ["camp-mug", "notes"]), deps); // the same order again
    await recordSales(orderOf("ORDR-0002", ["camp-mug", "tote"]), deps);
    expect(await soldOutProducts(catalog, sales)).toEqual(["camp-mug"]);
    expect(notifier.alerts).toEqual([]);

    // Open checkouts complete past the link's limit: two more mugs, one alert.
    await recordSales(orderOf("ORDR-0003", ["camp-mug"]), deps);
    await recordSales(orderOf("ORDR-0004", ["camp-mug"]), deps);
    expect(notifier.alerts).toEqual([{ productId: "camp-mug", run: "camp-mug:usd:2400", sold: 3, stock: 2 }]);
    expect(entries).toEqual([{ event: "stock.oversold", productId: "camp-mug", sold: 3, stock: 2 }]);

    // A sale at an older price belongs to that price's run (its own Payment Link), not the current one.
    await recordSales(orderOf("ORDR-0005", ["tote"], 2900), deps);
    expect(await sales.counts([currentRun(catalog.products[1] as Catalog["products"][number])])).toEqual([1]);
  });

  it("when the alert cannot be queued, fails the order's recording and alerts on its retry", async () => {
    const sales = freshSales();
    const notifier = new RecordingNotifier();
    const { entries, log } = memoryLog();
    const deps = { catalog, sales, notifier, log };
    await recordSales(orderOf("MUGS-0001", ["camp-mug"]), deps);
    await recordSales(orderOf("MUGS-0002", ["camp-mug"]), deps);
    notifier.failNext = true;
    await expect(recordSales(orderOf("MUGS-0003", ["camp-mug"]), deps)).rejects.toThrow("outbox unavailable");
    expect(entries).toEqual([
      { event: "stock.alert_failed", productId: "camp-mug", reason: "notify_failed" },
    ]);
    await recordSales(orderOf("MUGS-0003", ["camp-mug"]), deps);
    expect(notifier.alerts).toEqual([{ productId: "camp-mug", run: "camp-mug:usd:2400", sold: 3, stock: 2 }]);
  });
});

describe("GET /api/stock", () => {
  const URL_ = "https://shop.example/api/stock";

  it("answers only the ids of sold-out products, with headers that let the CDN keep it", async () => {
    const sales = freshSales();
    const { log } = memoryLog();
    const handle = createStockHandler({ catalog, sales, now: Date.now }, log);
    const empty = await handle(new Request(URL_));
    expect(empty.status).toBe(200);
    expect(await empty.json()).toEqual({ soldOut: [] });

    const deps = { catalog, sales, notifier: new RecordingNotifier(), log };
    for (const number of ["SOLD-0001", "SOLD-0002"]) await recordSales(orderOf(number, ["camp-mug"]), deps);
    const later = createStockHandler({ catalog, sales, now: Date.now }, log);
    const response = await later(new Request(URL_));
    expect(await response.text()).toBe('{"soldOut":["camp-mug"]}');
    expect(Object.fromEntries(response.headers)).toEqual(STOCK_HEADERS);
    expect(response.headers.get("netlify-cdn-cache-control")).toBe(
      "public, durable, s-maxage=20, stale-while-revalidate=5",
    );
  });

  it("reads the store at most once per instance every 5 seconds, whatever the traffic", async () => {
    const sales = countingReads(freshSales());
    const clock = manualClock();
    const handle = createStockHandler({ catalog, sales, now: clock.read }, memoryLog().log);
    for (let request = 0; request < 50; request += 1)
      expect((await handle(new Request(URL_))).status).toBe(200);
    expect(sales.reads).toBe(1);
    clock.advance(4_999);
    await handle(new Request(URL_));
    expect(sales.reads).toBe(1);
    clock.advance(1);
    await handle(new Request(URL_));
    expect(sales.reads).toBe(2);
  });

  it("refuses other methods and any query string without reading the store", async () => {
    const sales = countingReads(freshSales());
    const handle = createStockHandler({ catalog, sales, now: Date.now }, memoryLog().log);
    const post = await handle(new Request(URL_, { method: "POST" }));
    expect([post.status, post.headers.get("allow")]).toEqual([405, "GET, HEAD"]);
    const busted = await handle(new Request(`${URL_}?t=${randomUUID()}`));
    expect([busted.status, busted.headers.get("cache-control")]).toEqual([400, "no-store"]);
    expect(sales.reads).toBe(0);
  });

  it("answers 503 while Redis is down, briefly cached so an outage does not multiply the calls", async () => {
    const { entries, log } = memoryLog();
    const handle = createStockHandler({ catalog, sales: freshSales(), now: Date.now }, log);
    bridge.setUnavailable(true);
    try {
      const response = await handle(new Request(URL_));
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ error: "store_unavailable" });
      expect(response.headers.get("netlify-cdn-cache-control")).toBe("public, s-maxage=5");
    } finally {
      bridge.setUnavailable(false);
    }
    expect(entries).toEqual([{ event: "stock.failed", reason: "store_unavailable" }]);
  });

  it("is composed from the environment: the deployed catalog and the store, or a 500 naming nothing secret", async () => {
    const handle = stockFromEnv(
      { UPSTASH_REDIS_REST_URL: bridge.url, UPSTASH_REDIS_REST_TOKEN: bridge.token },
      memoryLog().log,
    );
    const response = await handle(new Request(URL_));
    expect(response.status).toBe(200);
    expect(await response.json()).toHaveProperty("soldOut");
    const { entries, log } = memoryLog();
    const broken = await stockFromEnv({}, log)(new Request(URL_));
    expect([broken.status, await broken.json()]).toEqual([500, { error: "not_configured" }]);
    expect(entries[0]?.reason).toContain("Missing UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN");
  });
});
