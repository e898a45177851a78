/**
 * The customer's pages, rendered on the server without JavaScript: the "find my order" form, what follows it, and
 * the orders a sign-in link opens. Pure: words from the "customer" catalog section, every value escaped.
 */
import { FIND_ORDER_PATH, type ReceiptDownloads } from "../email/templates.ts";
import { type Translator, translator } from "../i18n/messages.ts";
import { html, type SafeHtml } from "../lib/html.ts";
import { formatMoney, isKnownCurrency } from "../lib/money.ts";
import type { LedgerRecord, OrderState } from "../order/ledger.ts";
import { orderNumber } from "../order/number.ts";
import { SIGN_IN_MINUTES } from "../order/sign-in.ts";
import type { ShopInfo } from "../shop/info.ts";
import { shopPage } from "../shop/page.ts";

/** Path of the "find my order" page; a sign-in link is `<site>/orders/<token>`. */
/** Where the customer's pages live: the path the receipts and the storefront link. */
export const ORDERS_PATH = FIND_ORDER_PATH;

/** A page: its status, title and main content. */
export interface Page {
  status: number;
  title: string;
  body: SafeHtml;
  /** Why, for the log (never personal data). */
  note: string;
  retryAfterSeconds?: number;
}

type Text = Translator<"customer">;

/** One order as its customer sees it: the record, and its fresh download links when it has files to deliver. */
export interface CustomerOrder {
  record: LedgerRecord;
  downloads: ReceiptDownloads | undefined;
}

const STATE_WORDS: Record<OrderState, Parameters<Text>[0]> = {
  fulfilled: "state_fulfilled",
  fulfilling: "state_fulfilling",
  awaiting_payment: "state_awaiting_payment",
  payment_failed: "state_payment_failed",
  failed: "state_failed",
  refunded: "state_refunded",
  disputed: "state_disputed",
};

/** The form that asks for a sign-in link, with `error` shown and tied to the field when the address was not one. */
export function findForm(
  shop: ShopInfo,
  text: Text,
  options: { email?: string; error?: string } = {},
): SafeHtml {
  const { email = "", error } = options;
  return html`<form method="post" action="${ORDERS_PATH}" novalidate>
<label for="email">${text("emailLabel")}</label>
<input id="email" name="email" type="email" autocomplete="email" required maxlength="254" value="${email}"${
    error && html` aria-invalid="true" aria-describedby="email-error"`
  }>
${error && html`<p id="email-error" class="error">${error}</p>`}
<button type="submit">${text("findButton")}</button>
</form>`;
}

/** GET /orders, and the same page again when the address was not one (400). */
export function findPage(shop: ShopInfo, text: Text, email?: string): Page {
  const invalid = email !== undefined;
  return {
    status: invalid ? 400 : 200,
    title: text("findTitle"),
    body: html`<p>${text("findIntro", { shop: shop.name })}</p>${findForm(shop, text, {
      email,
      error: invalid ? text("invalidEmail") : undefined,
    })}`,
    note: invalid ? "invalid_email" : "form",
  };
}

/**
 * A form sent to these pages from another website (`Sec-Fetch-Site: cross-site`), which a stranger's page can make
 * a visitor's browser do: refused before any budget or store command (400), with the shop's own form.
 */
export function otherSitePage(shop: ShopInfo, text: Text): Page {
  return {
    status: 400,
    title: text("findTitle"),
    body: html`<p>${text("otherSite")}</p>${findForm(shop, text)}`,
    note: "cross_site",
  };
}

/** The answer to a sign-in request: the same whether or not the address has orders. */
export function sentPage(shop: ShopInfo, text: Text): Page {
  return {
    status: 200,
    title: text("sentTitle"),
    body: html`<p>${text("sent", { shop: shop.name, minutes: SIGN_IN_MINUTES })}</p>
<p class="note">${text("sentNote")}</p>`,
    note: "sign_in_requested",
  };
}

/** Over a budget (the client's or the address's, the same page either way): nothing was done. */
export function tryLaterPage(text: Text, retryAfterSeconds: number, note: string): Page {
  return {
    status: 429,
    title: text("tryLaterTitle"),
    body: html`<p>${text("tryLater")}</p>`,
    note,
    retryAfterSeconds,
  };
}

/** A store or Stripe failure: try again shortly. */
export function unavailablePage(text: Text, status: number, note: string): Page {
  return { status, title: text("unavailableTitle"), body: html`<p>${text("unavailable")}</p>`, note };
}

/**
 * A sign-in link that is not valid (400) or expired (410), with the form for a new one. Not 403/404: netlify dev
 * (and the CDN) would retry those under other paths.
 */
export function badLinkPage(shop: ShopInfo, text: Text, problem: "invalid" | "expired"): Page {
  const expired = problem === "expired";
  return {
    status: expired ? 410 : 400,
    title: text(expired ? "expiredTitle" : "invalidLinkTitle"),
    body: html`<p>${expired ? text("expired", { minutes: SIGN_IN_MINUTES }) : text("invalidLink")}</p>${findForm(shop, text)}`,
    note: expired ? "expired_link" : "invalid_link",
  };
}

/** The customer's orders, newest first. */
export function ordersPage(shop: ShopInfo, text: Text, orders: CustomerOrder[]): Page {
  const list =
    orders.length === 0
      ? html`<p>${text("noOrders")}</p>`
      : html`<ol class="orders">${orders.map((order) => html`<li>${orderCard(shop, text, order)}</li>`)}</ol>`;
  return {
    status: 200,
    title: text("ordersTitle"),
    body: html`<p>${text("ordersIntro", { shop: shop.name })}</p>${list}`,
    note: "orders",
  };
}

function orderCard(shop: ShopInfo, text: Text, { record, downloads }: CustomerOrder): SafeHtml {
  const number = record.sessionId ? orderNumber(record.sessionId) : "";
  const date = new Intl.DateTimeFormat(shop.locale, { dateStyle: "long", timeZone: "UTC" });
  const total =
    record.amount !== null && record.currency && isKnownCurrency(record.currency)
      ? formatMoney(record.amount, record.currency, shop.locale)
      : undefined;
  const headingId = `order-${number}`;
  return html`<article aria-labelledby="${headingId}">
<h2 id="${headingId}">${text("order", { number })}</h2>
<dl>
<dt>${text("date")}</dt><dd>${date.format(record.createdAt)}</dd>
<dt>${text("status")}</dt><dd>${text(STATE_WORDS[record.state])}</dd>
${total && html`<dt>${text("total")}</dt><dd>${total}</dd>`}
</dl>
${
  record.items.length > 0 &&
  html`<h3>${text("items")}</h3><ul>${record.items.map(
    (item) => html`<li>${text("item", { quantity: item.quantity, name: item.name })}</li>`,
  )}</ul>`
}
${downloads && downloadList(shop, text, downloads)}
${
  record.state === "fulfilled" &&
  record.sessionId &&
  html`<form method="post"><input type="hidden" name="session" value="${record.sessionId}"><button type="submit" class="secondary">${text("resendButton")}</button></form>`
}
</article>`;
}

function downloadList(shop: ShopInfo, text: Text, downloads: ReceiptDownloads): SafeHtml {
  const until = new Intl.DateTimeFormat(shop.locale, { dateStyle: "long", timeZone: "UTC" }).format(
    downloads.expiresAt * 1000,
  );
  return html`<h3>${text("downloads")}</h3>
<ul class="downloads">${downloads.links.map(
    (link) =>
      html`<li><a class="button" href="${link.url}">${text("download", { file: link.name })}</a></li>`,
  )}</ul>
<p class="note">${text("downloadsNote", { limit: downloads.limit, date: until })}</p>`;
}

/** After "email me this receipt again": sent, sent within the hour already, or not possible for this order. */
export function resendPage(
  text: Text,
  outcome: "sent" | "recently" | "refused",
  sessionId: string,
  retryAfterSeconds?: number,
): Page {
  const number = orderNumber(sessionId);
  const back = html`<p><a href="">${text("back")}</a></p>`;
  if (outcome === "sent")
    return {
      status: 200,
      title: text("resentTitle"),
      body: html`<p>${text("resent", { number })}</p>${back}`,
      note: "receipt_resent",
    };
  if (outcome === "recently")
    return {
      status: 429,
      title: text("resentRecentlyTitle"),
      body: html`<p>${text("resentRecently", { number })}</p>${back}`,
      note: "resent_recently",
      retryAfterSeconds,
    };
  return {
    status: 409,
    title: text("resendRefusedTitle"),
    body: html`<p>${text("resendRefused", { number })}</p>${back}`,
    note: "resend_refused",
  };
}

/** The whole document of a page, in the shop's language and colours; no script, no request to anyone else. */
export function documentOf(shop: ShopInfo, page: Page): string {
  const text = translator(shop.locale, "customer");
  return shopPage(shop, {
    title: page.title,
    body: page.body,
    width: "40rem",
    style: (accent) =>
      "h2{font-size:1.15rem;margin:0 0 .5rem}h3{font-size:1rem;margin:1rem 0 .25rem}.error{color:#a4161a;font-weight:600}" +
      "ol.orders{list-style:none;padding:0;margin:0}ol.orders>li{border-top:1px solid #e3e3e0;padding:1.25rem 0}" +
      "dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:0}dt{color:#55554f}dd{margin:0}" +
      "ul{margin:0;padding-left:1.25rem}ul.downloads{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.5rem}" +
      "label{display:block;font-weight:600;margin:0 0 .25rem}" +
      "input{font:inherit;width:100%;box-sizing:border-box;padding:.6rem;border:1px solid #767670;border-radius:6px;margin:0 0 1rem}" +
      `button,a.button{display:inline-block;font:inherit;font-weight:600;padding:.6rem 1.2rem;border:0;border-radius:6px;background:${accent};color:#fff;cursor:pointer;text-decoration:none}` +
      `button.secondary{background:#fff;color:${accent};border:2px solid ${accent};margin-top:1rem}` +
      "button:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid #1d1d1b;outline-offset:2px}",
    footer: html`<p class="note">${text("help")} <a href="mailto:${shop.supportEmail}">${shop.supportEmail}</a></p>`,
  }).toString();
}
