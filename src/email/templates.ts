/** Pure email renderers: Order (or notice) + shop -> subject, HTML and plain text. */
import type { Order, OrderItem } from "../order/model.ts";
import { html, type SafeHtml } from "../lib/html.ts";
import { formatMoney } from "../lib/money.ts";

/** What the emails say about the shop itself. */
export interface ShopInfo {
  name: string;
  /** Public URL of the storefront, when known. */
  siteUrl: string | undefined;
}

/** A rendered email, without sender or recipient. */
export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

/** A failed delayed payment, as the customer needs to hear about it. Amount in minor units. */
export interface PaymentFailedNotice {
  sessionId: string;
  currency: string;
  total: number;
}

/** The customer's receipt: items, totals, shipping address and delivery links. */
export function renderReceipt(order: Order, shop: ShopInfo): RenderedEmail {
  const money = (amount: number) => formatMoney(amount, order.currency);
  const downloads = order.items.filter((item) => item.deliveryUrl);
  const body = html`
    <h1 style="font-size:20px">Thank you for your order</h1>
    <p>We have received your payment. Here is your receipt.</p>
    ${itemsTable(order.items, money)}
    ${totalsTable(order, money)}
    ${
      downloads.length > 0 &&
      html`<h2 style="font-size:16px">Your downloads</h2>
    <ul>${downloads.map((item) => html`<li><a href="${item.deliveryUrl}">${item.name}</a></li>`)}</ul>`
    }
    ${
      order.shippingAddress &&
      html`<h2 style="font-size:16px">Shipping to</h2>
    <p>${[order.shippingAddress.name, ...order.shippingAddress.lines].filter(Boolean).map((line) => html`${line}<br>`)}</p>`
    }
    <p style="color:#555">Order reference: ${order.sessionId}</p>`;
  const text = [
    "Thank you for your order",
    "We have received your payment. Here is your receipt.",
    "",
    ...itemLines(order.items, money),
    "",
    ...totalLines(order, money),
    ...(downloads.length > 0
      ? ["", "Your downloads:", ...downloads.map((i) => `- ${i.name}: ${i.deliveryUrl}`)]
      : []),
    ...(order.shippingAddress
      ? [
          "",
          "Shipping to:",
          ...[order.shippingAddress.name ?? "", ...order.shippingAddress.lines].filter(Boolean),
        ]
      : []),
    "",
    `Order reference: ${order.sessionId}`,
  ];
  return finish(`Your ${shop.name} order: ${money(order.total)}`, shop, body, text);
}

/** The merchant's new-order notification: who bought what. */
export function renderMerchantNotice(order: Order, shop: ShopInfo): RenderedEmail {
  const money = (amount: number) => formatMoney(amount, order.currency);
  const customer =
    [order.customerName, order.customerEmail].filter(Boolean).join(" · ") || "No contact details";
  const body = html`
    <h1 style="font-size:20px">New order${order.livemode ? "" : " (test mode)"}</h1>
    <p>Customer: ${customer}</p>
    ${itemsTable(order.items, money)}
    ${totalsTable(order, money)}
    ${
      order.shippingAddress &&
      html`<h2 style="font-size:16px">Ship to</h2>
    <p>${[order.shippingAddress.name, ...order.shippingAddress.lines].filter(Boolean).map((line) => html`${line}<br>`)}</p>`
    }
    ${!order.customerEmail && html`<p><strong>The customer left no email address: no receipt was sent.</strong></p>`}
    <p style="color:#555">Checkout Session: ${order.sessionId}</p>`;
  const text = [
    `New order${order.livemode ? "" : " (test mode)"}`,
    `Customer: ${customer}`,
    "",
    ...itemLines(order.items, money),
    "",
    ...totalLines(order, money),
    ...(order.shippingAddress
      ? [
          "",
          "Ship to:",
          ...[order.shippingAddress.name ?? "", ...order.shippingAddress.lines].filter(Boolean),
        ]
      : []),
    ...(order.customerEmail ? [] : ["", "The customer left no email address: no receipt was sent."]),
    "",
    `Checkout Session: ${order.sessionId}`,
  ];
  const items = order.items.reduce((sum, item) => sum + item.quantity, 0);
  return finish(`New order: ${money(order.total)}, ${items} item${items === 1 ? "" : "s"}`, shop, body, text);
}

/** Tells the customer a delayed payment failed, that nothing was charged, and how to try again. */
export function renderPaymentFailed(notice: PaymentFailedNotice, shop: ShopInfo): RenderedEmail {
  const amount = formatMoney(notice.total, notice.currency);
  const retry = shop.siteUrl
    ? `You can place your order again at ${shop.siteUrl} and choose another payment method.`
    : "You can place your order again from our shop and choose another payment method.";
  const body = html`
    <h1 style="font-size:20px">Your payment did not go through</h1>
    <p>Your payment of ${amount} to ${shop.name} could not be completed, so your order was not placed and you have not been charged.</p>
    <p>${
      shop.siteUrl
        ? html`You can <a href="${shop.siteUrl}">place your order again</a> and choose another payment method.`
        : retry
    }</p>
    <p style="color:#555">Reference: ${notice.sessionId}</p>`;
  const text = [
    "Your payment did not go through",
    `Your payment of ${amount} to ${shop.name} could not be completed, so your order was not placed and you have not been charged.`,
    retry,
    "",
    `Reference: ${notice.sessionId}`,
  ];
  return finish(`Your ${shop.name} payment did not go through`, shop, body, text);
}

function itemsTable(items: OrderItem[], money: (amount: number) => string): SafeHtml {
  return html`<table role="presentation" cellpadding="6" style="border-collapse:collapse;width:100%">
      <thead><tr><th align="left">Item</th><th align="right">Qty</th><th align="right">Unit</th><th align="right">Amount</th></tr></thead>
      <tbody>${items.map(
        (item) =>
          html`
        <tr><td>${item.name}</td><td align="right">${item.quantity}</td><td align="right">${money(item.unitAmount)}</td><td align="right">${money(item.amount)}</td></tr>`,
      )}
      </tbody>
    </table>`;
}

function totalRows(order: Order): [label: string, amount: number][] {
  return [
    ["Subtotal", order.subtotal],
    ...(order.discount > 0 ? [["Discount", -order.discount] as [string, number]] : []),
    ...(order.shipping > 0 ? [["Shipping", order.shipping] as [string, number]] : []),
    ...(order.tax > 0 ? [["Tax", order.tax] as [string, number]] : []),
    ["Total", order.total],
  ];
}

function totalsTable(order: Order, money: (amount: number) => string): SafeHtml {
  return html`<table role="presentation" cellpadding="6" style="margin-left:auto">${totalRows(order).map(
    ([label, amount]) =>
      label === "Total"
        ? html`<tr><th align="left">${label}</th><th align="right">${money(amount)}</th></tr>`
        : html`<tr><td>${label}</td><td align="right">${money(amount)}</td></tr>`,
  )}</table>`;
}

function itemLines(items: OrderItem[], money: (amount: number) => string): string[] {
  return items.map(
    (item) => `${item.quantity} x ${item.name} @ ${money(item.unitAmount)} = ${money(item.amount)}`,
  );
}

function totalLines(order: Order, money: (amount: number) => string): string[] {
  return totalRows(order).map(([label, amount]) => `${label}: ${money(amount)}`);
}

function finish(subject: string, shop: ShopInfo, body: SafeHtml, text: string[]): RenderedEmail {
  const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${subject}</title></head>
<body style="font-family:system-ui,sans-serif;color:#1a1a1a;max-width:600px;margin:0 auto;padding:16px">
  <p style="font-weight:bold">${shop.name}</p>
  ${body}
</body></html>`;
  return { subject, html: page.value, text: [shop.name, "", ...text, ""].join("\n") };
}

/** A permanent fulfilment failure, as the merchant needs to hear about it. No customer data: ids and codes only. */
export interface FailureAlert {
  /** The Checkout Session id, or null when the payload had no usable id (then `key` names the ledger record). */
  sessionId: string | null;
  key: string;
  reason: string;
}

/** Tells the merchant that an order could not be fulfilled and how to act on it. */
export function renderFailureAlert(alert: FailureAlert, shop: ShopInfo): RenderedEmail {
  const where = alert.sessionId
    ? `Checkout Session: ${alert.sessionId}`
    : `The payment event carried no usable Checkout Session id (ledger key ${alert.key}).`;
  const next = alert.sessionId
    ? `Look the order up in the Stripe Dashboard, fix the cause, then run: npm run orders -- retry ${alert.sessionId}`
    : "Look for the payment in the Stripe Dashboard (Developers > Events) and fulfil it by hand if it is an order.";
  const lines = ["An order could not be fulfilled", `Reason: ${alert.reason}`, where, "", next];
  const body = html`
    <h1 style="font-size:20px">An order could not be fulfilled</h1>
    <p>Reason: <code>${alert.reason}</code></p>
    <p>${where}</p>
    <p>${next}</p>`;
  return finish(`Order not fulfilled: ${alert.reason}`, shop, body, lines);
}
