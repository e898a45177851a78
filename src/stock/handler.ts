/**
 * GET /api/stock: the ids of the catalog's sold-out products, `{"soldOut":["camp-mug"]}`, and nothing else. The CDN
 * keeps each answer for a while, so traffic does not reach the function, and a warm instance reuses its last answer
 * for a few seconds, so even uncached traffic costs little. No Stripe call: the shop counts its own sales.
 */
import type { ConfigError } from "../config.ts";
import { failureReply, reasonOf } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import type { Catalog } from "../shop/catalog.ts";
import { type SalesStore, soldOutProducts } from "./sales.ts";

/** What the handler needs. */
export interface StockDeps {
  catalog: Catalog;
  sales: SalesStore;
  /** ms since the epoch. */
  now: () => number;
}

/**
 * How long an answer may be old, end to end, in seconds: the CDN serves it for CDN_FRESH_S, then for up to
 * CDN_STALE_S more while it asks again; an instance reuses its own answer for INSTANCE_REUSE_MS. At most 30 s in
 * all; with the page asking every 25 s (public/shop.js), a sale shows as "Sold out" within a minute (the time its
 * webhook takes aside). The CDN asks the function at most 3 times a minute: 3 Upstash commands, whatever the
 * traffic.
 */
export const CDN_FRESH_S = 20;
export const CDN_STALE_S = 5;
export const INSTANCE_REUSE_MS = 5_000;

/** Response headers of an answer: the CDN's durable cache keeps it, browsers always ask again. */
export const STOCK_HEADERS = {
  "content-type": "application/json; charset=utf-8",
  // Netlify's CDN only (stripped before the browser); `durable` shares one copy across its edge nodes.
  "netlify-cdn-cache-control": `public, durable, s-maxage=${CDN_FRESH_S}, stale-while-revalidate=${CDN_STALE_S}`,
  "cache-control": "public, max-age=0, must-revalidate",
} as const;

/** The stock handler; a configuration problem answers 500 and names itself in the log only. */
export function createStockHandler(
  deps: StockDeps | ConfigError,
  log: Logger,
): (req: Request) => Promise<Response> {
  let last: { at: number; body: string } | undefined;
  return async (req) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return json(405, { error: "method_not_allowed" }, { allow: "GET, HEAD", "cache-control": "no-store" });
    }
    // Every query string would be a separate CDN cache entry: only the plain URL is answered.
    if (new URL(req.url).search !== "") {
      return json(400, { error: "no_parameters" }, { "cache-control": "no-store" });
    }
    if (!("catalog" in deps)) {
      log("stock.not_configured", { reason: deps.message });
      return json(500, { error: "not_configured" }, { "cache-control": "no-store" });
    }
    const now = deps.now();
    if (last === undefined || now - last.at >= INSTANCE_REUSE_MS) {
      try {
        last = {
          at: now,
          body: JSON.stringify({ soldOut: await soldOutProducts(deps.catalog, deps.sales) }),
        };
      } catch (error) {
        const { status, reason } = failureReply(error);
        log("stock.failed", { reason: reasonOf(error, reason) });
        // Kept by the CDN for a few seconds too, so an outage does not turn every visit into a Redis call.
        return json(status, { error: reason }, { "netlify-cdn-cache-control": "public, s-maxage=5" });
      }
    }
    return new Response(req.method === "HEAD" ? null : last.body, { status: 200, headers: STOCK_HEADERS });
  };
}

function json(status: number, body: object, headers: Record<string, string>): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
  });
}
