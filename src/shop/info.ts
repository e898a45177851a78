/** The shop's facts the emails and the order page use, with the catalog as their one source. */
import { fileId, type OrderFile } from "../order/downloads.ts";
import type { Catalog, DownloadSettings, ProductImage } from "./catalog.ts";

/** What the emails and order status say about the shop. */
export interface ShopInfo {
  name: string;
  /** Receives replies to receipts (Reply-To) and is named in their footer. */
  supportEmail: string;
  /** BCP 47 locale of texts, money, dates and addresses, e.g. "de-DE". */
  locale: string;
  /** Public URL of the storefront (Netlify's `URL`), when known: links and absolute picture URLs need it. */
  siteUrl: string | undefined;
  logo: ProductImage | undefined;
  /** `#rrggbb`, or undefined for the neutral default. */
  accentColor: string | undefined;
  /** First picture of each catalog product, by product id; paths relative to the site root. */
  productImages: Record<string, ProductImage>;
  /** The files each catalog product delivers, by product id (products without files are absent). */
  productFiles: Record<string, OrderFile[]>;
  downloads: DownloadSettings;
  /** Whether the customer gets the shop's refund confirmation. */
  refundConfirmations: boolean;
}

/** The shop facts of a validated catalog, plus the deploy's public URL. */
export function shopInfo(catalog: Catalog, siteUrl: string | undefined): ShopInfo {
  const productImages: Record<string, ProductImage> = {};
  const productFiles: Record<string, OrderFile[]> = {};
  for (const product of catalog.products) {
    const first = product.images[0];
    if (first) productImages[product.id] = first;
    if (product.files.length > 0)
      productFiles[product.id] = product.files.map((path) => ({
        id: fileId(product.id, path),
        name: path.split("/").pop() ?? path,
        productId: product.id,
      }));
  }
  return {
    name: catalog.shop.name,
    supportEmail: catalog.shop.supportEmail,
    locale: catalog.shop.locale,
    siteUrl,
    logo: catalog.shop.logo,
    accentColor: catalog.shop.accentColor,
    productImages,
    productFiles,
    downloads: catalog.shop.downloads,
    refundConfirmations: catalog.shop.refundConfirmations,
  };
}

/** An absolute URL for a path under the site root, or undefined when the site's URL is unknown. */
export function siteAsset(shop: ShopInfo, path: string): string | undefined {
  if (!shop.siteUrl) return undefined;
  return new URL(path, shop.siteUrl.endsWith("/") ? shop.siteUrl : `${shop.siteUrl}/`).href;
}
