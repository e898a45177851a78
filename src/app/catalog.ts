/** The shop's catalog as deployed with the functions, and the count of its limited stock. */
import type { Redis } from "@upstash/redis";
import catalogFile from "../../catalog.json" with { type: "json" };
import { upstashSales } from "../adapters/upstash-stock.ts";
import { type Catalog, parseCatalog } from "../shop/catalog.ts";
import type { SalesStore } from "../stock/sales.ts";

let bundledCatalog: Catalog | undefined;
/**
 * The catalog bundled with the functions at build time (the site build has already refused an invalid one): the one
 * source of the shop's name, support address, language, look and files.
 */
export function deployedCatalog(): Catalog {
  bundledCatalog ??= parseCatalog(catalogFile);
  return bundledCatalog;
}

/** What fulfilment counts sales against: only when some product of `catalog` has a stock. */
export function stockCount(
  catalog: Catalog,
  redis: Redis,
  prefix: string,
): { stock?: { catalog: Catalog; sales: SalesStore } } {
  return catalog.products.some((product) => product.stock !== undefined)
    ? { stock: { catalog, sales: upstashSales(redis, prefix) } }
    : {};
}
