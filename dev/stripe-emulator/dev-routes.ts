// Emulator-only routes for tests and the offline merchant: failure injection, pay/resend helpers, dashboards.
import { Hono } from "hono";
import { html } from "../../src/lib/html.ts";
import { formatMoney } from "../../src/lib/money.ts";
import { page } from "./checkout-page.ts";
import { decideDispute, type DisputeChange, openDispute } from "./disputes.ts";
import { errorResponse, invalidParam, StripeError } from "./errors.ts";
import { localOnly } from "./local-only.ts";
import { succeededCharge } from "./payments.ts";
import {
  type CompletionInput,
  type CompletionResult,
  PAYMENT_CHOICES,
  type PaymentChoice,
} from "./sessions.ts";
import type { EmulatorState } from "./state.ts";
import type { Delivery } from "./webhooks.ts";

/** What the dev routes drive; implemented by the emulator in index.ts. */
export interface DevControls {
  state: EmulatorState;
  failNext(pathPrefix: string, status: number, count?: number): void;
  completeSession(sessionId: string, input: CompletionInput): CompletionResult;
  resend(eventId: string, options?: { times?: number; concurrent?: boolean }): Promise<Delivery[]>;
  deliveries(): Delivery[];
  /** The most deliveries in flight to one endpoint at a time. */
  readonly maxInFlight: number;
}

function object(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function optionalString(value: unknown, param: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw invalidParam(param, `${param} must be a string.`);
  return value;
}

/** The JSON body of the complete helper, checked and turned into a CompletionInput. */
function completionFromJson(raw: unknown): CompletionInput {
  const body = object(raw);
  const email = optionalString(body.email, "email") ?? "";
  const payment = optionalString(body.payment, "payment") ?? "card";
  if (!(PAYMENT_CHOICES as readonly string[]).includes(payment)) {
    throw invalidParam("payment", `payment must be one of ${PAYMENT_CHOICES.join(", ")}.`);
  }
  const shippingRaw = body.shipping === undefined || body.shipping === null ? null : object(body.shipping);
  const address = object(shippingRaw?.address);
  const quantitiesRaw = object(body.quantities);
  const quantities: Record<string, number> = {};
  for (const [id, value] of Object.entries(quantitiesRaw)) {
    if (typeof value !== "number") throw invalidParam(`quantities.${id}`, "Quantities must be numbers.");
    quantities[id] = value;
  }
  return {
    email,
    name: optionalString(body.name, "name"),
    payment: payment as PaymentChoice,
    quantities,
    shipping: shippingRaw
      ? {
          name: optionalString(shippingRaw.name, "shipping.name") ?? "",
          address: {
            line1: optionalString(address.line1, "shipping.address.line1") ?? "",
            line2: optionalString(address.line2, "shipping.address.line2"),
            city: optionalString(address.city, "shipping.address.city"),
            postal_code: optionalString(address.postal_code, "shipping.address.postal_code"),
            state: optionalString(address.state, "shipping.address.state"),
            country: optionalString(address.country, "shipping.address.country") ?? "",
          },
        }
      : null,
  };
}

async function jsonBody(request: Request): Promise<unknown> {
  const text = await request.text();
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new StripeError(400, "The request body must be JSON.");
  }
}

function deliveriesPage(deliveries: Delivery[]): string {
  const rows = deliveries
    .slice()
    .reverse()
    .map(
      (delivery) =>
        html`<tr><td>${delivery.at}</td><td><code>${delivery.eventId}</code></td><td>${delivery.type}</td><td>${delivery.attempt}</td><td>${delivery.status ?? "—"}</td><td>${delivery.error ?? "delivered"}</td><td>${delivery.url}</td></tr>`,
    );
  return page(
    "Webhook deliveries",
    html`<h1>Webhook deliveries</h1>
<section aria-labelledby="log-heading">
<h2 id="log-heading">Delivery log, newest first</h2>
${
  deliveries.length === 0
    ? html`<p>No deliveries yet.</p>`
    : html`<table>
<thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Type</th><th scope="col">Attempt</th><th scope="col">Status</th><th scope="col">Result</th><th scope="col">Endpoint</th></tr></thead>
<tbody>${rows}</tbody>
</table>`
}
</section>`,
  ).value;
}

function homePage(state: EmulatorState): string {
  const links = [...state.paymentLinks.values()].reverse().map(({ link, lineItems }) => {
    const names = lineItems.map((item) => {
      const price = state.prices.get(item.price);
      return price ? (state.products.get(price.product)?.name ?? price.id) : item.price;
    });
    return html`<li><a href="/pay/${link.id}">${names.join(", ") || link.id}</a> ${link.active ? "" : "(inactive)"}</li>`;
  });
  const sessions = [...state.sessions.values()]
    .reverse()
    .slice(0, 20)
    .map(
      ({ session }) =>
        html`<tr><td><a href="/c/pay/${session.id}"><code>${session.id}</code></a></td><td>${session.status}</td><td>${session.payment_status}</td><td class="amount">${formatMoney(session.amount_total, session.currency)}</td></tr>`,
    );
  return page(
    "Stripe emulator",
    html`<h1>Stripe emulator</h1>
<section aria-labelledby="links-heading">
<h2 id="links-heading">Payment links</h2>
${links.length > 0 ? html`<ul>${links}</ul>` : html`<p>No payment links yet. Run the catalog sync against this emulator.</p>`}
</section>
<section aria-labelledby="sessions-heading">
<h2 id="sessions-heading">Recent checkout sessions</h2>
${
  sessions.length > 0
    ? html`<table><thead><tr><th scope="col">Session</th><th scope="col">Status</th><th scope="col">Payment</th><th scope="col" class="amount">Total</th></tr></thead><tbody>${sessions}</tbody></table>`
    : html`<p>No checkout sessions yet.</p>`
}
</section>
<p><a href="/_emulator/deliveries">Webhook deliveries</a> · ${state.events.size} events recorded</p>`,
  ).value;
}

/** Builds `/` and `/_emulator/*`. */
export function devRoutes(controls: DevControls): Hono {
  const app = new Hono();
  app.onError((error, c) => {
    if (error instanceof StripeError) return errorResponse(c, error);
    throw error;
  });

  app.get("/", (c) => c.html(homePage(controls.state)));

  // A page the developer visits on another site could otherwise pay sessions, inject failures or start resend
  // storms here: only requests from this machine, and only JSON bodies for the ones that change something.
  app.use("/_emulator/*", localOnly("application/json"));

  app.post("/_emulator/fail", async (c) => {
    const body = object(await jsonBody(c.req.raw));
    const path = optionalString(body.path, "path");
    if (!path?.startsWith("/")) throw invalidParam("path", "path must be a path prefix starting with /.");
    const status = typeof body.status === "number" ? body.status : 500;
    const count = typeof body.count === "number" ? body.count : 1;
    controls.failNext(path, status, count);
    return c.json({ path, status, count });
  });

  app.post("/_emulator/checkout/sessions/:id/complete", async (c) => {
    const input = completionFromJson(await jsonBody(c.req.raw));
    const result = controls.completeSession(c.req.param("id"), input);
    return c.json({ session: result.session, redirect_url: result.redirectUrl });
  });

  // What a cardholder does at their bank, and what the card network decides: no Stripe API opens or decides disputes.
  const disputeAnswer = ({ dispute, event }: DisputeChange) => ({ dispute, event_id: event.id });
  app.post("/_emulator/disputes", async (c) => {
    const body = object(await jsonBody(c.req.raw));
    const ids = {
      charge: optionalString(body.charge, "charge") ?? undefined,
      payment_intent: optionalString(body.payment_intent, "payment_intent") ?? undefined,
    };
    const reason = optionalString(body.reason, "reason") ?? undefined;
    const charge = succeededCharge(controls.state, ids, "dispute");
    return c.json(disputeAnswer(openDispute(controls.state, charge, { ...(reason && { reason }) })));
  });

  app.post("/_emulator/disputes/:id/close", async (c) => {
    const status = optionalString(object(await jsonBody(c.req.raw)).status, "status");
    if (status !== "won" && status !== "lost") throw invalidParam("status", "status must be won or lost.");
    return c.json(disputeAnswer(decideDispute(controls.state, c.req.param("id"), status)));
  });

  app.post("/_emulator/events/:id/resend", async (c) => {
    const body = object(await jsonBody(c.req.raw));
    const times = typeof body.times === "number" ? body.times : 1;
    const concurrent = body.concurrent === true;
    const deliveries = await controls.resend(c.req.param("id"), { times, concurrent });
    return c.json({ deliveries, max_in_flight: controls.maxInFlight });
  });

  app.get("/_emulator/deliveries", (c) => {
    const deliveries = controls.deliveries();
    if ((c.req.header("accept") ?? "").includes("text/html")) return c.html(deliveriesPage(deliveries));
    return c.json({ data: deliveries });
  });

  return app;
}
