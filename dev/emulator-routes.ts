/**
 * The Stripe emulator as `npm run trigger` and the drop drill drive it: its own routes (which the Stripe SDK does not
 * know), a catalog product's Payment Link found and opened as a customer's browser opens it, and the customer who pays.
 */
import type Stripe from "stripe";
import * as v from "valibot";
import { CliError } from "../src/commands/kit.ts";
import { SHOP_MARKER } from "../src/order/metadata.ts";

/** Emulator-only routes answer at once; a redelivery drill waits for every delivery and its retries. */
const ROUTE_TIMEOUT_MS = 5_000;
const RESEND_TIMEOUT_MS = 180_000;

/** Who pays on the emulated checkout page (the Stripe CLI fixture's customer). */
export const CUSTOMER_NAME = "Jenny Rosen";
/** Where the customer lives when the Payment Link collects a shipping address (the CLI fixture's address). */
export const SHIPPING_ADDRESS = {
  line1: "510 Townsend St",
  postal_code: "94103",
  city: "San Francisco",
  state: "CA",
  country: "US",
};

/** The shipping a customer enters for a session that collects it in `allowedCountries`; none when it does not. */
export function shippingFor(
  allowedCountries: readonly string[] | undefined,
): { shipping: { name: string; address: object } } | Record<string, never> {
  if (!allowedCountries || allowedCountries.length === 0) return {};
  const address = allowedCountries.includes("US")
    ? SHIPPING_ADDRESS
    : { ...SHIPPING_ADDRESS, state: null, country: allowedCountries[0] };
  return { shipping: { name: CUSTOMER_NAME, address } };
}

const deliverySchema = v.object({
  eventId: v.string(),
  type: v.string(),
  attempt: v.number(),
  status: v.nullable(v.number()),
  error: v.optional(v.string()),
  url: v.string(),
  queuedMs: v.number(),
  retryInMs: v.nullable(v.number()),
});
export type Delivery = v.InferOutput<typeof deliverySchema>;
const deliveryLogSchema = v.object({ data: v.array(deliverySchema) });
const resendSchema = v.object({ deliveries: v.array(deliverySchema), max_in_flight: v.number() });
const disputeSchema = v.object({
  dispute: v.object({
    id: v.string(),
    amount: v.number(),
    currency: v.string(),
    reason: v.string(),
    status: v.string(),
    evidence_details: v.object({ due_by: v.number() }),
  }),
  event_id: v.string(),
});
export type DisputeAnswer = v.InferOutput<typeof disputeSchema>;
const emulatorErrorSchema = v.object({ error: v.object({ message: v.string() }) });

export const noEmulator = (url: string) =>
  `No Stripe emulator at ${url} — start the shop first with \`npm start\` (or pass --stripe-url).`;

/** The emulator's own routes under /_emulator, which the Stripe SDK does not know. */
export class EmulatorRoutes {
  constructor(readonly url: string) {}

  async #request(path: string, init: RequestInit, timeoutMs: number): Promise<Response> {
    try {
      return await fetch(`${this.url}${path}`, {
        ...init,
        headers: { accept: "application/json", "content-type": "application/json" },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      if (error instanceof Error && error.name === "TimeoutError") {
        throw new CliError(`The Stripe emulator at ${this.url} did not answer ${path} in time.`);
      }
      throw new CliError(noEmulator(this.url));
    }
  }

  async #json<T>(
    path: string,
    init: RequestInit,
    schema: v.GenericSchema<unknown, T>,
    timeoutMs = ROUTE_TIMEOUT_MS,
  ) {
    const response = await this.#request(path, init, timeoutMs);
    const body: unknown = await response.json().catch(() => undefined);
    if (response.status === 404 && !v.is(emulatorErrorSchema, body)) {
      throw new CliError(
        `${this.url} answers, but it is not the Linkshop Stripe emulator (it has no ${path}). Point --stripe-url at the emulator npm start runs.`,
      );
    }
    if (!response.ok) {
      const reason = v.is(emulatorErrorSchema, body) ? body.error.message : `HTTP ${response.status}`;
      throw new CliError(`The Stripe emulator refused ${path}: ${reason}`);
    }
    const result = v.safeParse(schema, body);
    if (!result.success)
      throw new CliError(`Unexpected answer from the Stripe emulator at ${this.url}${path}.`);
    return result.output;
  }

  /** Every delivery attempt so far; also proves the emulator is there. */
  async deliveries(): Promise<Delivery[]> {
    return (await this.#json("/_emulator/deliveries", { method: "GET" }, deliveryLogSchema)).data;
  }

  async complete(
    sessionId: string,
    body: { email: string; name: string; payment: string; shipping?: { name: string; address: object } },
  ): Promise<void> {
    await this.#json(
      `/_emulator/checkout/sessions/${encodeURIComponent(sessionId)}/complete`,
      { method: "POST", body: JSON.stringify(body) },
      v.unknown(),
    );
  }

  /** Opens a Payment Link as a customer's browser does; resolves with the id of the Checkout Session it made. */
  async openLink(linkId: string): Promise<string> {
    const path = `/pay/${encodeURIComponent(linkId)}`;
    const response = await this.#request(path, { method: "GET", redirect: "manual" }, ROUTE_TIMEOUT_MS);
    await response.body?.cancel();
    const sessionId = /\/c\/pay\/(cs_\w+)$/.exec(response.headers.get("location") ?? "")?.[1];
    if (response.status !== 303 || sessionId === undefined) {
      throw new CliError(
        `The Stripe emulator did not open the Payment Link ${linkId} (HTTP ${response.status}).`,
      );
    }
    return sessionId;
  }

  /** Has the customer dispute the payment `paymentIntent` as fraudulent; the event it caused comes back too. */
  openDispute(paymentIntent: string): Promise<DisputeAnswer> {
    const body = JSON.stringify({ payment_intent: paymentIntent, reason: "fraudulent" });
    return this.#json("/_emulator/disputes", { method: "POST", body }, disputeSchema);
  }

  /** Decides an open dispute as the card network would. */
  closeDispute(disputeId: string, status: "won" | "lost"): Promise<DisputeAnswer> {
    const path = `/_emulator/disputes/${encodeURIComponent(disputeId)}/close`;
    return this.#json(path, { method: "POST", body: JSON.stringify({ status }) }, disputeSchema);
  }

  /**
   * Redelivers an event and resolves, once all are done, with every attempt made (retries included) and the most
   * the emulator sends to one endpoint at a time.
   */
  async resend(
    eventId: string,
    times: number,
    concurrent: boolean,
  ): Promise<{ deliveries: Delivery[]; maxInFlight: number }> {
    const path = `/_emulator/events/${encodeURIComponent(eventId)}/resend`;
    const init = { method: "POST", body: JSON.stringify({ times, concurrent }) };
    const answer = await this.#json(path, init, resendSchema, RESEND_TIMEOUT_MS);
    return { deliveries: answer.deliveries, maxInFlight: answer.max_in_flight };
  }
}

/**
 * The Payment Link `npm start` made last for the catalog product `productId` (the link carries its `linkshop_id`).
 * Exit 1 when the emulator at `emulatorUrl` has no such link, or that link has stopped (its stock is sold): nothing is
 * bought then.
 */
export async function activeLinkOf(
  productId: string,
  stripe: Stripe,
  emulatorUrl: string,
): Promise<Stripe.PaymentLink> {
  let stopped: Stripe.PaymentLink | undefined;
  // Newest first: the product's newest link is the one the catalog sells now (a new price makes a new link, and
  // the older ones may still be active), so it alone decides.
  for await (const candidate of stripe.paymentLinks.list({ limit: 100 })) {
    if (candidate.metadata?.[SHOP_MARKER] !== productId) continue;
    if (candidate.active) return candidate;
    stopped = candidate;
    break;
  }
  if (stopped) {
    const completed = stopped.restrictions?.completed_sessions;
    const why = completed
      ? `sold out: ${completed.count} of ${completed.limit} checkouts completed (the catalog's stock)`
      : "it was deactivated";
    throw new CliError(
      `The Payment Link of "${productId}" (${stopped.id}) is no longer active: ${why}. Nothing was bought. Raise its "stock" in catalog.json (npm start syncs it) to sell more.`,
    );
  }
  throw new CliError(
    `The Stripe emulator at ${emulatorUrl} has no active Payment Link for "${productId}". npm start makes one for every product of catalog.json (and again when it changes): is this the emulator of the npm start running in this folder?`,
  );
}
