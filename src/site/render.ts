/**
 * Pure page renderers for the static shop: catalog + Payment Links in, HTML out, in the catalog's language (the
 * `site` section of the message catalogs). Every value is escaped.
 */
import { html, SafeHtml } from "../lib/html.ts";
import { formatMoney } from "../lib/money.ts";
import { languageOf } from "../i18n/languages.ts";
import { CATALOGS, type Key, translator } from "../i18n/messages.ts";
import { FIND_ORDER_PATH } from "../email/templates.ts";
import type { Catalog, Product, Shop } from "../shop/catalog.ts";

/** Site-root paths of the built assets (content-hashed by the build). */
export interface AssetPaths {
  stylesheet: string;
  shopScript: string;
  thanksScript: string;
  favicon: string;
}

interface LayoutOptions {
  shop: Shop;
  title: string;
  description: string;
  assets: AssetPaths;
  script: string;
  body: SafeHtml;
}

function layout({ shop, title, description, assets, script, body }: LayoutOptions): string {
  const t = translator(shop.locale, "site");
  return html`<!doctype html>
<html lang="${shop.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<meta name="description" content="${description}">
<link rel="icon" href="${assets.favicon}" type="image/svg+xml">
<link rel="stylesheet" href="${assets.stylesheet}">
<script src="${script}" defer></script>
</head>
<body>
<a class="skip-link" href="#main">${t("skipLink")}</a>
<header class="site-header">
<div class="wrap"><p class="brand"><a href="/">${shop.name}</a></p></div>
</header>
<main id="main">
${body}
</main>
<footer class="site-footer">
<div class="wrap">
<p>${t("questions")} <a href="mailto:${shop.supportEmail}">${shop.supportEmail}</a></p>
<p><a href="${FIND_ORDER_PATH}">${t("findOrder")}</a></p>
<p>${t("securePayments")}</p>
</div>
</footer>
</body>
</html>
`.value;
}

/** "the United States, Canada and the United Kingdom" in the shop's language. */
function countryList(codes: string[], locale: string): string {
  const names = new Intl.DisplayNames([locale], { type: "region" });
  return new Intl.ListFormat(locale, { type: "conjunction" }).format(
    codes.map((code) => names.of(code) ?? code),
  );
}

function productNote(product: Product, locale: string): string | undefined {
  const t = translator(locale, "site");
  if (product.files.length > 0) return t("digitalDownload");
  const shipping = product.paymentLink.collectShipping;
  if (shipping) return t("shipsTo", { countries: countryList(shipping.allowedCountries, locale) });
  return undefined;
}

/** How a card ends: Buy, "Sold out" (its stock sold when the site was built), or "Unavailable" without a link. */
function buyControl(
  product: Product,
  link: string | undefined,
  price: string,
  soldOut: boolean,
  locale: string,
) {
  const t = translator(locale, "site");
  if (soldOut) return html`<p class="sold-out">${t("soldOut")}</p>`;
  if (!link) return html`<p class="unavailable">${t("unavailable")}</p>`;
  const details = t("buyDetails", { product: product.name, price });
  const buy = html`<a class="button" href="${link}" data-payment-link>${t("buy")}<span class="visually-hidden"> ${details}</span></a>`;
  // A product with stock carries its "Sold out" hidden: the page's script swaps it in once the last one is sold.
  return product.stock === undefined
    ? buy
    : html`${buy}<p class="sold-out" hidden data-sold-out>${t("soldOut")}</p>`;
}

function productCard(
  product: Product,
  link: string | undefined,
  locale: string,
  index: number,
  soldOut: boolean,
): SafeHtml {
  const image = product.images[0];
  const price = formatMoney(product.price.amount, product.price.currency, locale);
  const note = productNote(product, locale);
  const t = translator(locale, "site");
  const headingId = `product-${product.id}`;
  // The first row loads eagerly: it is on screen at once; the rest wait until scrolled near.
  const loading = index < 3 ? "eager" : "lazy";
  return html`<li>
<article class="card" aria-labelledby="${headingId}"${product.stock !== undefined && html` data-product-id="${product.id}"`}>
${image && html`<img src="/${image.src}" alt="${image.alt}" loading="${loading}" decoding="async">`}
<div class="card-body">
<h2 id="${headingId}">${product.name}</h2>
<p class="description">${product.description}</p>
${note && html`<p class="note">${note}</p>`}
<div class="buy-row">
<p class="price"><span class="visually-hidden">${t("price")} </span>${price}</p>
${buyControl(product, link, price, soldOut, locale)}
</div>
</div>
</article>
</li>`;
}

/** Where the storefront asks which products are sold out (the `stock` function). */
export const STOCK_PATH = "/api/stock";

/**
 * The home page: one card per product; a product without a Payment Link shows "Unavailable" instead of Buy, one in
 * `soldOut` (sold when the site was built) "Sold out". With any product with stock, the page's script asks
 * STOCK_PATH and swaps Buy for "Sold out" as units sell; without JavaScript Buy stays, and Stripe's page says when
 * the link has stopped.
 */
export function renderShopPage(
  catalog: Catalog,
  links: Record<string, string>,
  assets: AssetPaths,
  soldOut: ReadonlySet<string> = new Set(),
): string {
  const { shop } = catalog;
  const t = translator(shop.locale, "site");
  const stocked = catalog.products.some((product) => product.stock !== undefined);
  const body = html`<div class="wrap">
<div class="intro">
<h1>${shop.name}</h1>
<p>${t("intro")}</p>
</div>
<ul class="products"${stocked && html` data-stock-url="${STOCK_PATH}"`}>
${catalog.products.map((product, index) =>
  productCard(product, links[product.id], shop.locale, index, soldOut.has(product.id)),
)}
</ul>
</div>`;
  return layout({
    shop,
    title: shop.name,
    description: `${shop.name}: ${catalog.products.map((product) => product.name).join(", ")}`,
    assets,
    script: assets.shopScript,
    body,
  });
}

/** The words the thank-you page's script shows, by the name it uses; `{name}` placeholders are filled in there. */
export const THANKS_SCRIPT_KEYS = [
  "paidHeading",
  "orderNumber",
  "total",
  "receiptTo",
  "receipt",
  "item",
  "pendingHeading",
  "pending",
  "pendingNext",
  "failedHeading",
  "failed",
  "againLink",
  "againRest",
  "slowHeading",
  "slow",
  "slowNext",
  "notFoundHeading",
  "notFound",
  "notFoundNext",
  "badLinkHeading",
  "badLink",
  "errorHeading",
  "error",
  "downloadsHeading",
  "downloadsNote",
  "refundedHeading",
  "refunded",
  "disputedHeading",
  "disputed",
  "processingHeading",
  "processing",
  "busyHeading",
  "busy",
] as const satisfies readonly Key<"site">[];

/** Where the thank-you page carries its script's words: a JSON block (data, never run, so the CSP allows it). */
export const THANKS_TEXTS_ID = "thanks-texts";

/** The script's words in the shop's language, unfilled: the script fills each placeholder with its own value. */
function thanksScriptTexts(locale: string): Record<string, string> {
  const messages = CATALOGS[languageOf(locale)].site as Record<string, unknown>;
  return Object.fromEntries(
    THANKS_SCRIPT_KEYS.map((key) => {
      const message = messages[key];
      if (typeof message !== "string") throw new Error(`i18n: site.${key} must be a plain text`);
      return [key, message];
    }),
  );
}

/**
 * A `<script type="application/json">` block holding `value`. Inside a script element the HTML parser decodes
 * nothing and stops at `</script`, so the JSON escapes `<`, `>` and `&` (and the two line separators JavaScript
 * once refused) as \u escapes, which JSON.parse reads back unchanged.
 */
function jsonBlock(id: string, value: unknown): SafeHtml {
  const json = JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return html`<script type="application/json" id="${id}">${new SafeHtml(json)}</script>`;
}

/**
 * The thank-you page. Its script fills in the order status with the words handed to it in THANKS_TEXTS_ID; without
 * JavaScript the noscript text says what happens next. The status region starts hidden so a browser without
 * JavaScript never shows "Checking…". A customer whose receipt does not come finds the order through
 * FIND_ORDER_PATH.
 */
export function renderThanksPage(catalog: Catalog, assets: AssetPaths): string {
  const { shop } = catalog;
  const t = translator(shop.locale, "site");
  const body = html`<div class="wrap narrow status">
<div id="order-status" role="status" hidden>
<h1>${t("checkingHeading")}</h1>
<p>${t("checking")}</p>
</div>
<noscript>
<h1>${t("noscriptHeading")}</h1>
<p>${t("noscript")}</p>
<p>${t("noscriptQuestions")} <a href="mailto:${shop.supportEmail}">${shop.supportEmail}</a>.</p>
</noscript>
<p><a href="${FIND_ORDER_PATH}">${t("findOrder")}</a></p>
<p><a href="/">${t("backToShop")}</a></p>
</div>
${jsonBlock(THANKS_TEXTS_ID, thanksScriptTexts(shop.locale))}`;
  return layout({
    shop,
    title: `${t("thanksTitle")} · ${shop.name}`,
    description: t("thanksDescription", { shop: shop.name }),
    assets,
    script: assets.thanksScript,
    body,
  });
}
