/** The download links of an order: which files it delivers, and their signed links for a receipt or a page. */
import type { ReceiptDownloads } from "../email/templates.ts";
import { grantFor, type OrderFile, signDownload } from "../order/downloads.ts";
import type { Order } from "../order/model.ts";
import { siteAsset, type ShopInfo } from "../shop/info.ts";

/** Path of the download page; `<site>/download/<token>`. */
export const DOWNLOAD_PATH = "/download";

/** Every file of every item of the order (each once), with the item it came with. */
export function orderFiles(
  order: Pick<Order, "items">,
  shop: ShopInfo,
): (OrderFile & { itemName: string })[] {
  const seen = new Set<string>();
  return order.items.flatMap((item) =>
    (item.productId ? (shop.productFiles[item.productId] ?? []) : [])
      .filter((file) => !seen.has(file.id) && seen.add(file.id))
      .map((file) => ({ ...file, itemName: item.name })),
  );
}

/** Why an order's files cannot be linked (log-safe reason), or undefined when they can. */
export function linkProblem(shop: ShopInfo, secret: string | undefined): string | undefined {
  if (!secret) return "download_secret_missing";
  if (!shop.siteUrl) return "site_url_unknown";
  return undefined;
}

/**
 * Signed links for `files` of the order `sessionId`, valid `downloads.expiresInDays` from `nowMs`. Call only when
 * linkProblem() is undefined.
 */
export function downloadLinks(
  sessionId: string,
  files: (OrderFile & { itemName: string })[],
  shop: ShopInfo,
  secret: string,
  nowMs: number,
): ReceiptDownloads {
  const days = shop.downloads.expiresInDays;
  const links = files.map((file) => {
    const grant = grantFor(sessionId, file, nowMs, days);
    const url = siteAsset(shop, `${DOWNLOAD_PATH.slice(1)}/${signDownload(grant, secret)}`) ?? "";
    return { name: file.name, itemName: file.itemName, url };
  });
  const expiresAt = Math.floor(nowMs / 1000) + days * 24 * 60 * 60;
  return { links, expiresAt, limit: shop.downloads.limit };
}
