// The emulated hosted checkout: payment link -> session -> server-rendered form -> Pay -> redirect.
import { Hono } from "hono";
import { type HtmlValue, html, SafeHtml } from "../../src/lib/html.ts";
import { formatMoney, stripeExponent } from "../../src/lib/money.ts";
import { StripeError } from "./errors.ts";
import { localOnly } from "./local-only.ts";
import type { LineItemObject, PaymentLinkObject } from "./objects.ts";
import {
  AmountMismatchError,
  CheckoutValidationError,
  type CompletionInput,
  completeSession,
  createSessionFromLink,
  getSession,
  PAYMENT_CHOICES,
  type PaymentChoice,
  setQuantities,
} from "./sessions.ts";
import type { EmulatorState, SessionRecord } from "./state.ts";

/** What the checkout routes need from the emulator. */
export interface CheckoutPageContext {
  state: EmulatorState;
  /** Schedules the result of a delayed payment method. */
  onDelayed: (sessionId: string, succeeds: boolean) => void;
}

const PAYMENT_LABELS: Record<PaymentChoice, string> = {
  card: "Card (succeeds)",
  delayed_success: "Delayed payment method — succeeds later",
  delayed_failure: "Delayed payment method — fails later",
};

const STYLES = `
:root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.5; }
body { margin: 0; background: #f6f8fa; color: #1a1f36; }
.banner { background: #5b3fd9; color: #fff; padding: .5rem 1rem; }
.banner p { margin: 0; max-width: 44rem; margin-inline: auto; }
main { max-width: 44rem; margin: 1.5rem auto; padding: 0 1rem 2rem; }
section, fieldset { background: #fff; border: 1px solid #d5dbe1; border-radius: 8px; padding: 1rem 1.25rem; margin: 0 0 1rem; }
legend { font-weight: 600; padding: 0 .25rem; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; }
h2 { font-size: 1.15rem; margin: 0 0 .75rem; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: .5rem .25rem; border-bottom: 1px solid #e3e8ee; vertical-align: top; }
td.amount, th.amount { text-align: right; white-space: nowrap; }
tfoot th, tfoot td { font-weight: 700; border-bottom: 0; }
.unit { display: block; font-weight: 400; color: #4f566b; font-size: .9rem; }
label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
.radio label { display: inline; font-weight: 400; margin: 0 0 0 .4rem; }
.radio { margin: .5rem 0; }
.hint { font-weight: 400; color: #4f566b; }
input[type=email], input[type=text], input[type=number], select {
  font: inherit; width: 100%; box-sizing: border-box; padding: .5rem .6rem; border: 1px solid #8792a2; border-radius: 6px; background: #fff; color: inherit; }
input[type=number] { width: 6rem; }
input[aria-invalid=true], select[aria-invalid=true] { border-color: #b3093c; border-width: 2px; }
:focus-visible { outline: 3px solid #0a66c2; outline-offset: 2px; }
button { font: inherit; font-weight: 600; border-radius: 6px; padding: .65rem 1.25rem; cursor: pointer; border: 1px solid #5b3fd9; }
button.primary { background: #5b3fd9; color: #fff; width: 100%; font-size: 1.1rem; }
button.secondary { background: #fff; color: #3d24b3; margin-top: .75rem; }
.field-error { color: #b3093c; margin: .25rem 0 0; }
.error-summary { border: 2px solid #b3093c; background: #fff5f7; border-radius: 8px; padding: 1rem 1.25rem; margin-bottom: 1rem; }
.error-summary a { color: #8a0730; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
footer { max-width: 44rem; margin: 0 auto 2rem; padding: 0 1rem; color: #4f566b; font-size: .9rem; }
a { color: #3d24b3; }
`;

// A constant of this module, so it needs no escaping (and escaping would break its quotes).
const STYLESHEET = new SafeHtml(STYLES);

/**
 * Keeps the amounts, the total, the Pay button and `expected_amount` in step with the quantities as they are typed.
 * Line amounts are rounded per line in minor units, as the server computes them. Without script, the server's
 * `expected_amount` check still refuses to charge a total the page did not show.
 */
const LIVE_TOTAL_SCRIPT = new SafeHtml(`
(() => {
  const table = document.getElementById("order-lines");
  const form = table && table.closest("form");
  if (!form) return;
  const currency = table.dataset.currency;
  const exponent = Number(table.dataset.exponent);
  const format = new Intl.NumberFormat("en-US", { style: "currency", currency: currency.toUpperCase() });
  const money = (minor) => format.format(minor / 10 ** exponent);
  const update = () => {
    let total = 0;
    for (const row of table.querySelectorAll("tr[data-unit]")) {
      const input = row.querySelector("input[type=number]");
      const text = input ? input.value.trim() : row.dataset.quantity;
      if (!/^\\d+$/.test(text)) return;
      const amount = Math.round(Number(row.dataset.unit) * Number(text));
      row.querySelector(".line-amount").textContent = money(amount);
      total += amount;
    }
    document.getElementById("total").textContent = money(total);
    document.getElementById("pay").textContent = "Pay " + money(total);
    form.elements.expected_amount.value = String(total);
  };
  table.addEventListener("input", update);
})();
`);

/** A complete page: lang, title, banner, main landmark, footer. */
export function page(title: string, body: HtmlValue): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Stripe emulator</title>
<style>${STYLESHEET}</style>
</head>
<body>
<header class="banner"><p><strong>Stripe emulator</strong> — test mode, no real money moves.</p></header>
<main id="main">
${body}
</main>
<footer><p>Served by the local Stripe emulator. <a href="/">Emulator home</a></p></footer>
</body>
</html>`;
}

/** Submitted form values, re-shown when the form comes back with errors. */
interface FormValues {
  email: string;
  name: string;
  shippingName: string;
  line1: string;
  line2: string;
  city: string;
  postalCode: string;
  region: string;
  country: string;
  payment: PaymentChoice;
  quantities: Record<string, string>;
  /** The total the page showed when Pay was pressed, minor units (a hidden field the page's script keeps current). */
  expectedAmount: string;
}

const EMPTY_VALUES: FormValues = {
  email: "",
  name: "",
  shippingName: "",
  line1: "",
  line2: "",
  city: "",
  postalCode: "",
  region: "",
  country: "",
  payment: "card",
  quantities: {},
  expectedAmount: "",
};

// Field paths used by the validation errors -> ids of the inputs they belong to.
function fieldId(path: string): string {
  const ids: Record<string, string> = {
    email: "email",
    name: "name",
    payment: "payment-card",
    "shipping.name": "shipping-name",
    "shipping.address.line1": "shipping-line1",
    "shipping.address.city": "shipping-city",
    "shipping.address.postal_code": "shipping-postal-code",
    "shipping.address.country": "shipping-country",
  };
  if (path.startsWith("quantities.")) return `quantity-${path.slice("quantities.".length)}`;
  return ids[path] ?? "email";
}

function regionName(code: string): string {
  try {
    return new Intl.DisplayNames(["en"], { type: "region" }).of(code) ?? code;
  } catch {
    return code;
  }
}

interface FieldOptions {
  id: string;
  name: string;
  label: string;
  value: string;
  errors: Record<string, string>;
  errorKey: string;
  autocomplete: string;
  type?: "text" | "email";
  required?: boolean;
}

function textField(options: FieldOptions): SafeHtml {
  const error = options.errors[options.errorKey];
  const errorId = `${options.id}-error`;
  return html`<label for="${options.id}">${options.label}${options.required ? "" : html` <span class="hint">(optional)</span>`}</label>
<input id="${options.id}" name="${options.name}" type="${options.type ?? "text"}" value="${options.value}" autocomplete="${options.autocomplete}"${options.required ? html` required aria-required="true"` : ""}${error ? html` aria-invalid="true" aria-describedby="${errorId}"` : ""}>
${error ? html`<p class="field-error" id="${errorId}">${error}</p>` : ""}`;
}

function summaryRow(item: LineItemObject, values: FormValues, errors: Record<string, string>): SafeHtml {
  const unit = formatMoney(item.price.unit_amount ?? Number(item.price.unit_amount_decimal), item.currency);
  const adjustable = item.adjustable_quantity;
  const id = `quantity-${item.id}`;
  const error = errors[`quantities.${item.id}`];
  const quantity = adjustable
    ? html`<label class="visually-hidden" for="${id}">Quantity of ${item.description}</label>
<input id="${id}" name="quantity_${item.id}" type="number" inputmode="numeric" min="${adjustable.minimum ?? 0}" max="${adjustable.maximum ?? 99}" value="${values.quantities[item.id] ?? String(item.quantity)}"${error ? html` aria-invalid="true" aria-describedby="${id}-error"` : ""}>
${error ? html`<p class="field-error" id="${id}-error">${error}</p>` : ""}`
    : html`${item.quantity}`;
  return html`<tr data-unit="${item.price.unit_amount_decimal}" data-quantity="${item.quantity}"><th scope="row">${item.description}<span class="unit">${unit} each</span></th><td>${quantity}</td><td class="amount line-amount">${formatMoney(item.amount_total, item.currency)}</td></tr>`;
}

/** The checkout form for an open session, with any errors and the values entered so far. */
function checkoutForm(
  state: EmulatorState,
  record: SessionRecord,
  values: FormValues,
  errors: Record<string, string>,
  notice?: string,
): SafeHtml {
  const { session } = record;
  const items = record.lineItems.map((item) => state.renderLineItem(item));
  const total = formatMoney(session.amount_total, session.currency);
  const adjustable = items.some((item) => item.adjustable_quantity);
  const shipping = session.shipping_address_collection;
  const errorEntries = Object.entries(errors);
  const summary =
    errorEntries.length > 0
      ? html`<div class="error-summary" role="alert" aria-labelledby="error-heading">
<h2 id="error-heading">Please correct ${errorEntries.length === 1 ? "this problem" : "these problems"}</h2>
<ul>${errorEntries.map(([path, message]) => html`<li><a href="#${fieldId(path)}">${message}</a></li>`)}</ul>
</div>`
      : "";
  const countries = shipping?.allowed_countries ?? [];
  return page(
    "Checkout",
    html`<h1>Checkout</h1>
${summary}${notice ? html`<p role="status">${notice}</p>` : ""}
<form method="post" action="/c/pay/${session.id}">
<section aria-labelledby="summary-heading">
<h2 id="summary-heading">Order summary</h2>
<table id="order-lines" data-currency="${session.currency}" data-exponent="${stripeExponent(session.currency)}">
<caption class="visually-hidden">Items in this order</caption>
<thead><tr><th scope="col">Item</th><th scope="col">Quantity</th><th scope="col" class="amount">Amount</th></tr></thead>
<tbody>${items.map((item) => summaryRow(item, values, errors))}</tbody>
<tfoot><tr><th scope="row" colspan="2">Total</th><td class="amount" id="total" aria-live="polite">${total}</td></tr></tfoot>
</table>
${adjustable ? html`<button class="secondary" type="submit" name="intent" value="update" formnovalidate>Update total</button>` : ""}
</section>
<fieldset>
<legend>Contact information</legend>
${textField({ id: "email", name: "email", label: "Email", value: values.email || (session.customer_email ?? record.prefilledEmail ?? ""), errors, errorKey: "email", autocomplete: "email", type: "email", required: true })}
${textField({ id: "name", name: "name", label: "Full name", value: values.name, errors, errorKey: "name", autocomplete: "name" })}
</fieldset>
${
  shipping
    ? html`<fieldset>
<legend>Shipping address</legend>
${textField({ id: "shipping-name", name: "shipping_name", label: "Recipient name", value: values.shippingName, errors, errorKey: "shipping.name", autocomplete: "shipping name", required: true })}
${textField({ id: "shipping-line1", name: "shipping_line1", label: "Address line 1", value: values.line1, errors, errorKey: "shipping.address.line1", autocomplete: "shipping address-line1", required: true })}
${textField({ id: "shipping-line2", name: "shipping_line2", label: "Address line 2", value: values.line2, errors, errorKey: "shipping.address.line2", autocomplete: "shipping address-line2" })}
${textField({ id: "shipping-city", name: "shipping_city", label: "City", value: values.city, errors, errorKey: "shipping.address.city", autocomplete: "shipping address-level2", required: true })}
${textField({ id: "shipping-postal-code", name: "shipping_postal_code", label: "Postal code", value: values.postalCode, errors, errorKey: "shipping.address.postal_code", autocomplete: "shipping postal-code", required: true })}
${textField({ id: "shipping-state", name: "shipping_state", label: "State, county or region", value: values.region, errors, errorKey: "shipping.address.state", autocomplete: "shipping address-level1" })}
<label for="shipping-country">Country</label>
<select id="shipping-country" name="shipping_country" autocomplete="shipping country" required aria-required="true"${errors["shipping.address.country"] ? html` aria-invalid="true" aria-describedby="shipping-country-error"` : ""}>
${countries.map((code) => html`<option value="${code}"${(values.country || countries[0]) === code ? html` selected` : ""}>${regionName(code)}</option>`)}
</select>
${errors["shipping.address.country"] ? html`<p class="field-error" id="shipping-country-error">${errors["shipping.address.country"]}</p>` : ""}
</fieldset>`
    : ""
}
<fieldset>
<legend>Payment method</legend>
${PAYMENT_CHOICES.map(
  (choice) =>
    html`<div class="radio"><input type="radio" id="payment-${choice.replace("_", "-")}" name="payment" value="${choice}"${values.payment === choice ? html` checked` : ""}><label for="payment-${choice.replace("_", "-")}">${PAYMENT_LABELS[choice]}</label></div>`,
)}
</fieldset>
<input type="hidden" name="expected_amount" value="${session.amount_total}">
<button class="primary" id="pay" type="submit" name="intent" value="pay">Pay ${total}</button>
</form>
${adjustable ? html`<script>${LIVE_TOTAL_SCRIPT}</script>` : ""}
${session.cancel_url ? html`<p><a href="${session.cancel_url}">Cancel and return to the shop</a></p>` : ""}`,
  );
}

function messagePage(title: string, message: HtmlValue): SafeHtml {
  return page(title, html`<h1>${title}</h1><section><p>${message}</p></section>`);
}

/** What a finished session shows: the payment's state, and the link's custom message if it has one. */
function completedPage(state: EmulatorState, record: SessionRecord): SafeHtml {
  const { session } = record;
  const link = session.payment_link ? state.paymentLinks.get(session.payment_link)?.link : undefined;
  const custom = link?.after_completion.hosted_confirmation?.custom_message;
  const status =
    record.delayedPayment === "pending"
      ? "Your payment is processing. The result arrives later."
      : record.delayedPayment === "failed"
        ? "Your payment failed."
        : "Your payment was received.";
  return page(
    "Thanks for your order",
    html`<h1>Thanks for your order</h1>
<section aria-labelledby="status-heading">
<h2 id="status-heading">Payment status</h2>
<p role="status">${status}</p>
${custom ? html`<p>${custom}</p>` : ""}
<p>Total: ${formatMoney(session.amount_total, session.currency)}. Reference: <code>${session.id}</code></p>
</section>`,
  );
}

function formValues(form: URLSearchParams): FormValues {
  const payment = form.get("payment") ?? "card";
  const quantities: Record<string, string> = {};
  for (const [key, value] of form) {
    if (key.startsWith("quantity_")) quantities[key.slice("quantity_".length)] = value;
  }
  return {
    email: form.get("email") ?? "",
    name: form.get("name") ?? "",
    shippingName: form.get("shipping_name") ?? "",
    line1: form.get("shipping_line1") ?? "",
    line2: form.get("shipping_line2") ?? "",
    city: form.get("shipping_city") ?? "",
    postalCode: form.get("shipping_postal_code") ?? "",
    region: form.get("shipping_state") ?? "",
    country: form.get("shipping_country") ?? "",
    payment: (PAYMENT_CHOICES as readonly string[]).includes(payment) ? (payment as PaymentChoice) : "card",
    quantities,
    expectedAmount: form.get("expected_amount") ?? "",
  };
}

// Quantities the customer typed for this session's items; a non-number becomes NaN so validation reports it
// on that field. Fields for other ids are not ours and are ignored.
function parsedQuantities(values: FormValues, record: SessionRecord): Record<string, number> {
  const quantities: Record<string, number> = {};
  for (const item of record.lineItems) {
    const text = values.quantities[item.id];
    if (text !== undefined) quantities[item.id] = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  }
  return quantities;
}

/** Turns the form into what the Pay button submits. */
function completionInput(values: FormValues, record: SessionRecord): CompletionInput {
  const expected = values.expectedAmount;
  return {
    ...(/^\d+$/.test(expected) && { expectedAmount: Number(expected) }),
    email: values.email,
    name: values.name,
    payment: values.payment,
    quantities: parsedQuantities(values, record),
    shipping: record.session.shipping_address_collection
      ? {
          name: values.shippingName,
          address: {
            line1: values.line1,
            line2: values.line2,
            city: values.city,
            postal_code: values.postalCode,
            state: values.region,
            country: values.country,
          },
        }
      : null,
  };
}

/** The inactive Payment Link a session was opened from, if its link has stopped since. */
function stoppedLink(state: EmulatorState, linkId: string | null): PaymentLinkObject | undefined {
  const link = linkId === null ? undefined : state.paymentLinks.get(linkId)?.link;
  return link && !link.active ? link : undefined;
}

/** What an inactive link shows: its own message, else Stripe's default. */
function inactiveLinkPage(link: PaymentLinkObject): SafeHtml {
  return messagePage("Link unavailable", link.inactive_message ?? "This link is no longer active.");
}

/** Routes of the hosted pages: `GET /pay/:plinkId`, `GET|POST /c/pay/:sessionId` (POST from this machine only). */
export function checkoutRoutes(context: CheckoutPageContext): Hono {
  const { state } = context;
  const app = new Hono();

  app.get("/pay/:plinkId", (c) => {
    const record = state.paymentLinks.get(c.req.param("plinkId"));
    if (!record) return c.html(messagePage("Link not found", "This payment link does not exist.").value, 404);
    if (!record.link.active) return c.html(inactiveLinkPage(record.link).value, 410);
    const query = new URL(c.req.url).searchParams;
    const session = createSessionFromLink(state, record.link, {
      prefilledEmail: query.get("prefilled_email"),
      clientReferenceId: query.get("client_reference_id"),
    });
    return c.redirect(`/c/pay/${session.session.id}`, 303);
  });

  app.get("/c/pay/:sessionId", (c) => {
    const record = state.sessions.get(c.req.param("sessionId"));
    if (!record)
      return c.html(messagePage("Checkout not found", "This checkout session does not exist.").value, 404);
    const current = getSession(state, record.session.id);
    if (current.session.status === "expired") {
      return c.html(messagePage("Checkout expired", "This checkout session has expired.").value, 410);
    }
    if (current.session.status === "complete") return c.html(completedPage(state, current).value);
    const stopped = stoppedLink(state, current.session.payment_link);
    if (stopped) return c.html(inactiveLinkPage(stopped).value, 410);
    return c.html(checkoutForm(state, current, EMPTY_VALUES, {}).value);
  });

  // The page's own form posts here; a form on another site's page could too, so only requests from this machine
  // (Host, and Origin as the browser sends it) with a form body get through.
  app.post("/c/pay/:sessionId", localOnly("application/x-www-form-urlencoded"), async (c) => {
    const record = state.sessions.get(c.req.param("sessionId"));
    if (!record)
      return c.html(messagePage("Checkout not found", "This checkout session does not exist.").value, 404);
    const current = getSession(state, record.session.id);
    // A finished session (paid in another tab, or expired) shows its state instead of the form.
    if (current.session.status !== "open") return c.redirect(`/c/pay/${current.session.id}`, 303);
    // The link stopped while this page was open (its last unit sold): no payment, its message instead.
    const stopped = stoppedLink(state, current.session.payment_link);
    if (stopped) return c.html(inactiveLinkPage(stopped).value, 410);
    const form = new URLSearchParams(await c.req.text());
    const values = formValues(form);
    try {
      if (form.get("intent") === "update") {
        setQuantities(state, current.session.id, parsedQuantities(values, current));
        const shown = { ...values, quantities: {} };
        return c.html(checkoutForm(state, current, shown, {}, "The total has been updated.").value);
      }
      const result = completeSession(
        state,
        current.session.id,
        completionInput(values, current),
        context.onDelayed,
      );
      return c.redirect(result.redirectUrl, 303);
    } catch (error) {
      if (error instanceof CheckoutValidationError) {
        return c.html(checkoutForm(state, current, values, error.fields).value, 422);
      }
      if (error instanceof AmountMismatchError) {
        // The quantities changed after the total was shown (no script, or typed at the last moment): show the
        // new total and let the customer confirm it, rather than charge an amount they did not see.
        setQuantities(state, current.session.id, parsedQuantities(values, current));
        const shown = { ...values, quantities: {} };
        const notice = `The total is now ${formatMoney(error.amount, current.session.currency)}. Check your order, then press Pay again.`;
        return c.html(checkoutForm(state, current, shown, {}, notice).value, 409);
      }
      if (error instanceof StripeError) {
        return c.html(messagePage("Payment not possible", error.message).value, 400);
      }
      throw error;
    }
  });

  return app;
}
