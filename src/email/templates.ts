/** Pure email renderers: Order (or notice) + shop -> subject, HTML and plain text, in the shop's language. */
import { html, type SafeHtml } from "../lib/html.ts";
import type { Order, OrderItem } from "../order/model.ts";
import { orderNumber } from "../order/number.ts";
import { type ShopInfo, siteAsset } from "../shop/info.ts";
import { type Formats, formatsFor } from "./format.ts";
import { type Translator, translator } from "../i18n/messages.ts";

/**
 * Where a customer finds their orders again (the find-my-order page): the site's pages and every receipt link to it,
 * so a lost receipt is never the end of an order.
 */
export const FIND_ORDER_PATH = "/orders";

/** A rendered email, without sender or recipient. */
export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

/** One file of the order, as the receipt links it: its own download page. */
export interface ReceiptDownload {
  /** The file's name, e.g. `trail-maps.pdf`. */
  name: string;
  /** The order line it belongs to. */
  itemName: string;
  url: string;
}

/** The order's download links and their limits; absent when the order has no files. */
export interface ReceiptDownloads {
  links: ReceiptDownload[];
  /** Unix seconds. */
  expiresAt: number;
  limit: number;
}

/** A failed delayed payment, as the customer needs to hear about it. Amount in minor units. */
export interface PaymentFailedNotice {
  sessionId: string;
  currency: string;
  total: number;
}

// Colours that read on white and, inverted by dark-mode clients, on black.
const INK = "#1a1a1a";
const MUTED = "#5f6368";
const LINE = "#e3e3e3";
const DEFAULT_ACCENT = "#1f5f8b";
const FONT = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";

/**
 * The customer's receipt: order number and date, items with pictures, totals, a download link for every file of
 * every item, address, support.
 */
export function renderReceipt(order: Order, shop: ShopInfo, files?: ReceiptDownloads): RenderedEmail {
  const t = translator(shop.locale, "email");
  const f = formatsFor(shop.locale, order.currency);
  const downloads = files?.links ?? [];
  const note = files && t("downloadsNote", { until: f.date(files.expiresAt * 1000), limit: files.limit });
  const address = order.shippingAddress && f.address(order.shippingAddress);
  const accent = shop.accentColor ?? DEFAULT_ACCENT;
  const facts = orderFacts(order, t, f);
  const body = html`
    <h1 style="margin:0 0 8px;font-size:22px;line-height:1.3;color:${accent}">${t("receiptHeading")}</h1>
    <p style="margin:0 0 16px">${t("receiptIntro")}</p>
    ${factsTable(facts)}
    ${itemsTable(order.items, shop, t, f, true)}
    ${totalsTable(order, t, f)}
    ${
      downloads.length > 0 &&
      html`<h2 style="margin:24px 0 8px;font-size:16px">${t("downloads")}</h2>
    <ul style="margin:0;padding-left:20px">${downloads.map((file) => html`<li><a href="${file.url}" style="color:${accent}">${file.name}</a> <span style="color:${MUTED}">(${file.itemName})</span></li>`)}</ul>
    <p style="margin:8px 0 0;font-size:13px;color:${MUTED}">${note}</p>`
    }
    ${address && addressBlock(t("shippingTo"), address)}
    <p style="margin:24px 0 0;font-size:12px;color:${MUTED};word-break:break-all">${t("paymentReference")}${t("colon")}${order.sessionId}</p>`;
  const text = [
    t("receiptHeading"),
    t("receiptIntro"),
    "",
    ...facts.map(([label, value]) => `${label}${t("colon")}${value}`),
    "",
    ...itemLines(order.items, f),
    "",
    ...totalLines(order, t, f),
    ...(downloads.length > 0
      ? [
          "",
          `${t("downloads")}${t("colon").trimEnd()}`,
          ...downloads.map((file) => `- ${file.name} (${file.itemName}): ${file.url}`),
          note ?? "",
        ]
      : []),
    ...(address ? ["", `${t("shippingTo")}${t("colon").trimEnd()}`, ...address] : []),
    "",
    `${t("paymentReference")}${t("colon")}${order.sessionId}`,
  ];
  const subject = t("receiptSubject", {
    shop: shop.name,
    number: order.orderNumber,
    total: f.money(order.total),
  });
  return finish(subject, shop, body, text, { footer: true, findOrder: true });
}

/** The merchant's new-order notice: order number, test mark, customer, items, address to copy, Dashboard link. */
export function renderMerchantNotice(order: Order, shop: ShopInfo): RenderedEmail {
  const t = translator(shop.locale, "email");
  const f = formatsFor(shop.locale, order.currency);
  const customer = [order.customerName, order.customerEmail].filter(Boolean).join(" · ") || t("noContact");
  const address = order.shippingAddress && f.address(order.shippingAddress);
  const dashboard = dashboardUrl(order.sessionId, order.livemode);
  const facts = orderFacts(order, t, f);
  const body = html`
    ${
      !order.livemode &&
      html`<p style="margin:0 0 16px;padding:8px 12px;background:#fff4d6;color:#6b4e00;border:1px solid #f0c36d;font-weight:bold">${t("testOrder")}</p>`
    }
    <h1 style="margin:0 0 8px;font-size:22px;line-height:1.3">${t("noticeHeading")} ${order.orderNumber}</h1>
    ${factsTable([...facts, [t("customer"), customer]])}
    ${itemsTable(order.items, shop, t, f, false)}
    ${totalsTable(order, t, f)}
    ${address && addressBlock(t("shippingTo"), address)}
    ${!order.customerEmail && html`<p><strong>${t("noReceipt")}</strong></p>`}
    <p style="margin:24px 0 0"><a href="${dashboard}" style="color:${shop.accentColor ?? DEFAULT_ACCENT};font-weight:bold">${t("openInStripe")}</a></p>
    <p style="margin:8px 0 0;color:${MUTED};font-size:13px">${t("checkoutSession")}${t("colon")}${order.sessionId}</p>`;
  const text = [
    ...(order.livemode ? [] : [t("testOrder"), ""]),
    `${t("noticeHeading")} ${order.orderNumber}`,
    ...facts.map(([label, value]) => `${label}${t("colon")}${value}`),
    `${t("customer")}${t("colon")}${customer}`,
    "",
    ...itemLines(order.items, f),
    "",
    ...totalLines(order, t, f),
    ...(address ? ["", `${t("shippingTo")}${t("colon").trimEnd()}`, ...address] : []),
    ...(order.customerEmail ? [] : ["", t("noReceipt")]),
    "",
    `${t("openInStripe")}${t("colon")}${dashboard}`,
    `${t("checkoutSession")}${t("colon")}${order.sessionId}`,
  ];
  const items = order.items.reduce((sum, item) => sum + item.quantity, 0);
  const subject = `${order.livemode ? "" : "[TEST] "}${t("noticeSubject", { number: order.orderNumber, total: f.money(order.total), count: items })}`;
  return finish(subject, shop, body, text, { footer: false });
}

/** Tells the customer a delayed payment failed, that nothing was charged, and how to try again. */
export function renderPaymentFailed(notice: PaymentFailedNotice, shop: ShopInfo): RenderedEmail {
  const t = translator(shop.locale, "email");
  const f = formatsFor(shop.locale, notice.currency);
  const amount = f.money(notice.total);
  const number = orderNumber(notice.sessionId);
  const retry = shop.siteUrl ? t("failedRetryAt", { url: shop.siteUrl }) : t("failedRetry");
  const body = html`
    <h1 style="margin:0 0 8px;font-size:22px;line-height:1.3">${t("failedHeading")}</h1>
    <p>${t("failedBody", { amount, shop: shop.name })}</p>
    <p>${
      shop.siteUrl
        ? html`<a href="${shop.siteUrl}" style="color:${shop.accentColor ?? DEFAULT_ACCENT}">${t("failedRetryLink")}</a> ${t("failedRetryRest")}`
        : retry
    }</p>
    <p style="color:${MUTED}">${t("reference")}${t("colon")}${number}<br><span style="font-size:12px">${t("paymentReference")}${t("colon")}${notice.sessionId}</span></p>`;
  const text = [
    t("failedHeading"),
    t("failedBody", { amount, shop: shop.name }),
    retry,
    "",
    `${t("reference")}${t("colon")}${number}`,
    `${t("paymentReference")}${t("colon")}${notice.sessionId}`,
  ];
  return finish(t("failedSubject", { shop: shop.name }), shop, body, text, { footer: true });
}

/** The order's page in the Stripe Dashboard (test or live); the Dashboard's search finds any object by its id. */
export function dashboardUrl(sessionId: string, livemode: boolean): string {
  return `https://dashboard.stripe.com/${livemode ? "" : "test/"}search?query=${encodeURIComponent(sessionId)}`;
}

function orderFacts(order: Order, t: Translator<"email">, f: Formats): [string, string][] {
  return [
    [t("orderNumber"), order.orderNumber],
    ...(order.createdAt !== undefined ? [[t("orderDate"), f.date(order.createdAt)] as [string, string]] : []),
  ];
}

function factsTable(facts: [string, string][]): SafeHtml {
  return html`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin:0 0 16px;border-collapse:collapse">${facts.map(
    ([label, value]) =>
      html`<tr><td style="padding:2px 0;color:${MUTED};width:40%">${label}</td><td style="padding:2px 0;font-weight:bold">${value}</td></tr>`,
  )}</table>`;
}

function itemsTable(
  items: OrderItem[],
  shop: ShopInfo,
  t: Translator<"email">,
  f: Formats,
  pictures: boolean,
): SafeHtml {
  const cell = `padding:8px 4px;border-bottom:1px solid ${LINE};vertical-align:middle`;
  return html`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;width:100%">
      <tr><th align="left" style="${cell};font-size:13px;color:${MUTED}" colspan="${pictures ? 2 : 1}">${t("item")}</th><th align="right" style="${cell};font-size:13px;color:${MUTED};white-space:nowrap">${t("quantity")}</th><th align="right" style="${cell};font-size:13px;color:${MUTED}">${t("amount")}</th></tr>${items.map(
        (item) => {
          const image = pictures && item.productId ? shop.productImages[item.productId] : undefined;
          const src = image && siteAsset(shop, image.src);
          return html`
      <tr>${pictures && html`<td width="56" style="${cell};width:56px">${src && image && html`<img src="${src}" alt="${image.alt}" width="48" height="48" style="display:block;width:48px;height:48px;border:0;border-radius:4px">`}</td>`}<td style="${cell}">${item.name}${item.quantity > 1 && html`<br><span style="font-size:13px;color:${MUTED}">${t("unitPrice")}${t("colon")}${f.money(item.unitAmount)}</span>`}</td><td align="right" style="${cell}">${item.quantity}</td><td align="right" style="${cell};white-space:nowrap">${f.money(item.amount)}</td></tr>`;
        },
      )}
    </table>`;
}

function totalRows(
  order: Order,
  t: Translator<"email">,
  f: Formats,
): [label: string, value: string, strong: boolean][] {
  return [
    [t("subtotal"), f.money(order.subtotal), false],
    ...(order.discount > 0
      ? [[t("discount"), f.money(-order.discount), false] as [string, string, boolean]]
      : []),
    ...(order.shipping > 0
      ? [[t("shipping"), f.money(order.shipping), false] as [string, string, boolean]]
      : []),
    ...(order.tax > 0 && !order.taxIncluded
      ? [[t("tax"), f.money(order.tax), false] as [string, string, boolean]]
      : []),
    [t("total"), f.money(order.total), true],
  ];
}

function totalsTable(order: Order, t: Translator<"email">, f: Formats): SafeHtml {
  return html`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin:8px 0 0;border-collapse:collapse">${totalRows(
    order,
    t,
    f,
  ).map(
    ([label, value, strong]) =>
      html`<tr><td align="right" style="padding:3px 4px;${strong ? "font-weight:bold;font-size:17px" : ""}">${label}</td><td align="right" width="120" style="padding:3px 4px;white-space:nowrap;${strong ? "font-weight:bold;font-size:17px" : ""}">${value}</td></tr>`,
  )}${
    order.taxIncluded &&
    html`<tr><td colspan="2" align="right" style="padding:3px 4px;font-size:13px;color:${MUTED}">${t("taxIncluded", { amount: f.money(order.tax) })}</td></tr>`
  }</table>`;
}

function addressBlock(heading: string, lines: string[]): SafeHtml {
  return html`<h2 style="margin:24px 0 8px;font-size:16px">${heading}</h2>
    <p style="margin:0">${lines.map((line, i) => html`${i > 0 && html`<br>`}${line}`)}</p>`;
}

function itemLines(items: OrderItem[], f: Formats): string[] {
  return items.map(
    (item) => `${item.quantity} × ${item.name} @ ${f.money(item.unitAmount)} = ${f.money(item.amount)}`,
  );
}

function totalLines(order: Order, t: Translator<"email">, f: Formats): string[] {
  return [
    ...totalRows(order, t, f).map(([label, value]) => `${label}${t("colon")}${value}`),
    ...(order.taxIncluded ? [t("taxIncluded", { amount: f.money(order.tax) })] : []),
  ];
}

function finish(
  subject: string,
  shop: ShopInfo,
  body: SafeHtml,
  text: string[],
  options: { footer: boolean; findOrder?: boolean },
): RenderedEmail {
  const t = translator(shop.locale, "email");
  const accent = shop.accentColor ?? DEFAULT_ACCENT;
  const logo = shop.logo && siteAsset(shop, shop.logo.src);
  // A receipt links the find-my-order page, absolute like its other links; without the site's URL there is no link.
  const findOrder = options.findOrder ? siteAsset(shop, FIND_ORDER_PATH.slice(1)) : undefined;
  const header =
    logo && shop.logo
      ? html`<img src="${logo}" alt="${shop.logo.alt}" height="40" style="display:block;height:40px;width:auto;border:0">`
      : html`<span style="font-size:18px;font-weight:bold;color:${accent}">${shop.name}</span>`;
  const footer =
    options.footer &&
    html`<tr><td style="padding:16px 24px;border-top:1px solid ${LINE};font-size:13px;color:${MUTED}">
      <p style="margin:0 0 4px">${t("questions", { support: shop.supportEmail })}</p>
      <p style="margin:0"><a href="mailto:${shop.supportEmail}" style="color:${accent}">${shop.supportEmail}</a>${shop.siteUrl && html` · <a href="${shop.siteUrl}" style="color:${accent}" title="${t("visitShop")}">${shop.name}</a>`}</p>
      ${findOrder && html`<p style="margin:4px 0 0"><a href="${findOrder}" style="color:${accent}">${t("findOrder")}</a></p>`}
    </td></tr>`;
  const page = html`<!doctype html>
<html lang="${shop.locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="color-scheme" content="light dark"><meta name="supported-color-schemes" content="light dark"><title>${subject}</title></head>
<body style="margin:0;padding:0;background:#f4f4f4;${FONT};color:${INK}">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f4f4f4"><tr><td align="center" style="padding:16px 8px">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:600px;background:#ffffff;border-collapse:collapse;${FONT};font-size:15px;line-height:1.5;color:${INK}">
  <tr><td style="padding:20px 24px;border-bottom:3px solid ${accent}">${header}</td></tr>
  <tr><td style="padding:24px">${body}</td></tr>
  ${footer}
</table>
</td></tr></table>
</body></html>`;
  const footerText = options.footer
    ? [
        "",
        "--",
        t("questions", { support: shop.supportEmail }),
        ...(findOrder ? [`${t("findOrder")}${t("colon")}${findOrder}`] : []),
        ...(shop.siteUrl ? [`${t("visitShop")}${t("colon")}${shop.siteUrl}`] : []),
      ]
    : [];
  return { subject, html: page.value, text: [shop.name, "", ...text, ...footerText, ""].join("\n") };
}

/** A permanent fulfilment failure, as the merchant needs to hear about it. No customer data: ids and codes only. */
export interface FailureAlert {
  /** The Checkout Session id, or null when the payload had no usable id (then `key` names the ledger record). */
  sessionId: string | null;
  key: string;
  reason: string;
}

/**
 * Tells the merchant, in the shop's language, that an order could not be fulfilled and how to act on it; reason codes
 * and the command to run stay as they are.
 */
export function renderFailureAlert(alert: FailureAlert, shop: ShopInfo): RenderedEmail {
  const t = translator(shop.locale, "email");
  const where = alert.sessionId
    ? t("alertOrder", { number: orderNumber(alert.sessionId), sessionId: alert.sessionId })
    : t("alertNoSession", { key: alert.key });
  const command = alert.sessionId ? `npm run orders -- retry ${alert.sessionId}` : undefined;
  const next = command ? `${t("alertRetry")} ${command}` : t("alertByHand");
  const lines = [t("alertHeading"), `${t("alertReason")}${t("colon")}${alert.reason}`, where, "", next];
  const body = html`
    <h1 style="margin:0 0 8px;font-size:22px">${t("alertHeading")}</h1>
    <p>${t("alertReason")}${t("colon")}<code>${alert.reason}</code></p>
    <p>${where}</p>
    <p>${command ? html`${t("alertRetry")} <code>${command}</code>` : t("alertByHand")}</p>`;
  return finish(t("alertSubject", { reason: alert.reason }), shop, body, lines, { footer: false });
}

/** A product that sold more than its stock, as the merchant needs to hear about it. */
export interface OversoldAlert {
  productId: string;
  /** The product's name in the catalog. */
  productName: string;
  /** Paid orders of the product's current run, one unit each. */
  sold: number;
  stock: number;
}

/** Tells the merchant, once, that a product has more paid orders than units, and what to do about the extra ones. */
export function renderOversoldAlert(alert: OversoldAlert, shop: ShopInfo): RenderedEmail {
  const t = translator(shop.locale, "email");
  const facts = { product: alert.productName, id: alert.productId, sold: alert.sold, stock: alert.stock };
  const body = html`
    <h1 style="margin:0 0 8px;font-size:22px">${t("oversoldHeading")}</h1>
    <p>${t("oversoldBody", facts)}</p>
    <p>${t("oversoldNext")}</p>`;
  const lines = [t("oversoldHeading"), "", t("oversoldBody", facts), "", t("oversoldNext")];
  return finish(t("oversoldSubject", facts), shop, body, lines, { footer: false });
}

/** A refund of an order, as the merchant and the customer hear about it. Amounts in minor units. */
export interface RefundNotice {
  sessionId: string;
  /** Stripe's PaymentIntent of the charge, for the Dashboard link. */
  paymentIntent: string;
  currency: string;
  /** Everything refunded so far on the charge. */
  amountRefunded: number;
  /** What the charge was for. */
  amount: number;
  full: boolean;
  /** Whether the order's download links stop working (an order without files: undefined). */
  accessRevoked: boolean | undefined;
  livemode: boolean;
}

/** Tells the merchant a refund was recorded: how much, whether full, and what happened to the downloads. */
export function renderRefundNotice(notice: RefundNotice, shop: ShopInfo): RenderedEmail {
  const t = translator(shop.locale, "email");
  const f = formatsFor(shop.locale, notice.currency);
  const number = orderNumber(notice.sessionId);
  const dashboard = `https://dashboard.stripe.com/${notice.livemode ? "" : "test/"}payments/${encodeURIComponent(notice.paymentIntent)}`;
  const lines = [
    t("refundAmount", { refunded: f.money(notice.amountRefunded), total: f.money(notice.amount) }),
    notice.full ? t("refundFull") : t("refundPartial"),
    ...(notice.accessRevoked === undefined
      ? []
      : [notice.accessRevoked ? t("accessRevoked") : t("accessKept")]),
  ];
  return merchantNotice(shop, t, {
    subject: t("refundSubject", { number, amount: f.money(notice.amountRefunded) }),
    heading: `${t("refundHeading")}: ${number}`,
    lines,
    dashboard,
    livemode: notice.livemode,
    sessionId: notice.sessionId,
  });
}

/** A dispute of an order's payment, opened or closed. Amount in minor units. */
export interface DisputeNotice {
  sessionId: string;
  disputeId: string;
  currency: string;
  amount: number;
  /** `opened`, `won` or `lost`. */
  status: "opened" | "won" | "lost";
  /** Stripe's reason code, e.g. `fraudulent`, shown as it is. */
  reason: string;
  /** When the evidence is due (ms), for an open dispute. */
  dueBy: number | undefined;
  livemode: boolean;
}

const DISPUTE_STATUS = { opened: "disputeOpened", won: "disputeWon", lost: "disputeLost" } as const;
const DISPUTE_ACCESS = {
  opened: "accessDisputeOpened",
  won: "accessDisputeWon",
  lost: "accessDisputeLost",
} as const;

/** Tells the merchant about a dispute: amount, order, reason, evidence due date, downloads, Dashboard link. */
export function renderDisputeNotice(notice: DisputeNotice, shop: ShopInfo): RenderedEmail {
  const t = translator(shop.locale, "email");
  const f = formatsFor(shop.locale, notice.currency);
  const number = orderNumber(notice.sessionId);
  const status = t(DISPUTE_STATUS[notice.status]);
  const dashboard = `https://dashboard.stripe.com/${notice.livemode ? "" : "test/"}disputes/${encodeURIComponent(notice.disputeId)}`;
  return merchantNotice(shop, t, {
    subject: t("disputeSubject", { number, amount: f.money(notice.amount), status }),
    heading: `${t("disputeHeading", { status })}: ${number}`,
    lines: [
      `${t("disputeReason")}${t("colon")}${notice.reason}`,
      ...(notice.dueBy === undefined ? [] : [`${t("disputeDueBy")}${t("colon")}${f.date(notice.dueBy)}`]),
      t(DISPUTE_ACCESS[notice.status]),
    ],
    dashboard,
    livemode: notice.livemode,
    sessionId: notice.sessionId,
  });
}

/** Tells the customer their refund is on its way, in the shop's language. */
export function renderRefundConfirmation(notice: RefundNotice, shop: ShopInfo): RenderedEmail {
  const t = translator(shop.locale, "email");
  const f = formatsFor(shop.locale, notice.currency);
  const number = orderNumber(notice.sessionId);
  const lines = [
    t("refundedBody", { amount: f.money(notice.amountRefunded), number }),
    t("refundedTiming"),
    ...(notice.accessRevoked ? [t("refundedDownloads")] : []),
  ];
  const body = html`
    <h1 style="margin:0 0 8px;font-size:22px;line-height:1.3">${t("refundedHeading")}</h1>
    ${lines.map((line) => html`<p style="margin:0 0 12px">${line}</p>`)}
    <p style="margin:16px 0 0;font-size:12px;color:${MUTED}">${t("paymentReference")}${t("colon")}${notice.sessionId}</p>`;
  const text = [
    t("refundedHeading"),
    ...lines,
    "",
    `${t("paymentReference")}${t("colon")}${notice.sessionId}`,
  ];
  return finish(t("refundedSubject", { shop: shop.name, number }), shop, body, text, { footer: true });
}

/** The shape every merchant notice after an order shares: test mark, heading, a few lines, Dashboard link. */
function merchantNotice(
  shop: ShopInfo,
  t: Translator<"email">,
  notice: {
    subject: string;
    heading: string;
    lines: string[];
    dashboard: string;
    livemode: boolean;
    sessionId: string;
  },
): RenderedEmail {
  const body = html`
    ${
      !notice.livemode &&
      html`<p style="margin:0 0 16px;padding:8px 12px;background:#fff4d6;color:#6b4e00;border:1px solid #f0c36d;font-weight:bold">${t("testOrder")}</p>`
    }
    <h1 style="margin:0 0 8px;font-size:22px;line-height:1.3">${notice.heading}</h1>
    ${notice.lines.map((line) => html`<p style="margin:0 0 8px">${line}</p>`)}
    <p style="margin:24px 0 0"><a href="${notice.dashboard}" style="color:${shop.accentColor ?? DEFAULT_ACCENT};font-weight:bold">${t("openInStripe")}</a></p>
    <p style="margin:8px 0 0;color:${MUTED};font-size:13px">${t("checkoutSession")}${t("colon")}${notice.sessionId}</p>`;
  const text = [
    ...(notice.livemode ? [] : [t("testOrder"), ""]),
    notice.heading,
    ...notice.lines,
    "",
    `${t("openInStripe")}${t("colon")}${notice.dashboard}`,
    `${t("checkoutSession")}${t("colon")}${notice.sessionId}`,
  ];
  return finish(`${notice.livemode ? "" : "[TEST] "}${notice.subject}`, shop, body, text, { footer: false });
}
