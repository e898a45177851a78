/** The shop's catalog as deployed with the functions. */
import catalogFile from "../../catalog.json" with { type: "json" };
import { type Catalog, parseCatalog } from "../shop/catalog.ts";

let bundledCatalog: Catalog | undefined;
/**
 * The catalog bundled with the functions at build time (the site build has already refused an invalid one): the one
 * source of the shop's name, support address, language, look and files.
 */
export function deployedCatalog(): Catalog {
  bundledCatalog ??= parseCatalog(catalogFile);
  return bundledCatalog;
}
