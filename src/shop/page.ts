/**
 * The frame of the pages a function renders itself (the download page, the customer's pages): the shop's name,
 * language and colour, no script and no request to any other site, and the headers that keep a link in the address
 * bar (the customer's key to the page) from being sent onwards, cached or indexed.
 */
import { html, SafeHtml } from "../lib/html.ts";
import type { ShopInfo } from "./info.ts";

/** Headers of every such page. */
export const PRIVATE_PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "x-robots-tag": "noindex",
  "x-content-type-options": "nosniff",
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
} as const;

/** What a page adds to the frame. */
export interface PageParts {
  title: string;
  body: SafeHtml;
  /** The width of the page's card, a CSS length. */
  width: string;
  /** CSS of the page's own elements, given the shop's accent colour: constant text of ours, never input. */
  style: (accent: string) => string;
  /** Under the body, inside the card (e.g. where to ask for help). */
  footer?: SafeHtml;
}

/** The whole document. */
export function shopPage(shop: ShopInfo, parts: PageParts): SafeHtml {
  const accent = shop.accentColor ?? "#1f5f46";
  const css = new SafeHtml(
    "body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f6f4;color:#1d1d1b}" +
      `main{max-width:${parts.width};margin:3rem auto;padding:2rem;background:#fff;border-radius:8px}` +
      "h1{font-size:1.4rem;margin:0 0 1rem}.shop{margin:0 0 1.5rem;color:#55554f}.note{color:#55554f;font-size:.9rem}" +
      `a{color:${accent}}\n${parts.style(accent)}`,
  );
  return html`<!doctype html>
<html lang="${shop.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${parts.title} · ${shop.name}</title>
<style>
${css}
</style>
</head>
<body>
<main>
<p class="shop">${shop.name}</p>
<h1>${parts.title}</h1>
${parts.body}
${parts.footer}
</main>
</body>
</html>`;
}
