/**
 * Checkout Sessions over Stripe's REST API with plain `fetch`: what the order-status function needs from Stripe,
 * without loading the Stripe SDK. Errors map as src/adapters/stripe.ts maps the SDK's.
 */
import { PermanentError, UpstreamError } from "../lib/errors.ts";
import { FULFILLED_MARKER, ORDER_NUMBER_KEY } from "../order/metadata.ts";
import { orderNumber } from "../order/number.ts";
import type { LineItemPayload, SessionPayload } from "../order/model.ts";
import type { LineItemSource, SessionPage, SessionSource } from "../fulfilment/ports.ts";

/**
 * The API version the Stripe SDK in package.json pins (`Stripe.API_VERSION`), so both readers see the same shapes;
 * tests/integration/stripe-rest.test.ts fails when the SDK moves on without this.
 */
export const STRIPE_API_VERSION = "2026-10-28.endive";

/** Stripe's largest page. Line items beyond the first page cost one call per 100. */
const PAGE_SIZE = 100;

/** How to reach Stripe. */
export interface StripeRestOptions {
  secretKey: string;
  /** Base URL of the API (STRIPE_API_BASE, e.g. the local emulator); default https://api.stripe.com. */
  apiBase?: URL | undefined;
  /** Longest wait for one request before it counts as a network failure. Milliseconds; default 10 000. */
  timeoutMs?: number;
}

/** A Checkout Session and all its line items (price.product expanded), read together. */
export interface SessionWithItems {
  session: SessionPayload;
  lineItems: LineItemPayload[];
}

/** The Stripe operations of the order-status function, each a `fetch` or a few. */
export interface StripeRest {
  /**
   * The session with its line items in one call (`expand[]=line_items.data.price.product`), plus one call per
   * further 100 items; undefined when Stripe does not know the id.
   */
  readSession(sessionId: string): Promise<SessionWithItems | undefined>;
  sessions: SessionSource;
  lineItems: LineItemSource;
}

type StripeList<T> = { data: T[]; has_more: boolean };
type Query = [string, string][];

/** The Stripe reader over `fetch`. */
export function stripeRest(options: StripeRestOptions): StripeRest {
  const base = (options.apiBase?.href ?? "https://api.stripe.com/").replace(/\/$/, "");
  const timeoutMs = options.timeoutMs ?? 10_000;

  /** One request; a 404 `resource_missing` is undefined, every other failure one of our errors. */
  async function call<T>(method: "GET" | "POST", path: string, query: Query): Promise<T | undefined> {
    const params = new URLSearchParams(query).toString();
    let response: Response;
    try {
      response = await fetch(`${base}${path}${method === "GET" && params ? `?${params}` : ""}`, {
        method,
        headers: {
          authorization: `Bearer ${options.secretKey}`,
          "stripe-version": STRIPE_API_VERSION,
          ...(method === "POST" && { "content-type": "application/x-www-form-urlencoded" }),
        },
        ...(method === "POST" && { body: params }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof DOMException && error.name === "TimeoutError";
      throw new UpstreamError("stripe", timedOut ? "stripe:timeout" : "stripe:network", { cause: error });
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      // A proxy's HTML page or a cut connection: not Stripe's answer, a retry may get one.
      throw new UpstreamError("stripe", `stripe:${response.ok ? "network" : response.status}`, {
        cause: error,
      });
    }
    if (response.ok) return body as T;
    const status = response.status;
    if (status === 404 && errorCode(body) === "resource_missing") return undefined;
    // The message can quote the request; only the status travels in `reason`.
    const cause = new Error(`Stripe answered ${status}: ${errorMessage(body)}`);
    if (status === 429 || status >= 500) throw new UpstreamError("stripe", `stripe:${status}`, { cause });
    throw new PermanentError(`stripe:${status}`, { cause });
  }

  /** GET that must find what it asks for: a missing object is a permanent failure. */
  async function found<T>(path: string, query: Query): Promise<T> {
    const result = await call<T>("GET", path, query);
    if (result === undefined) throw new PermanentError("unknown_session");
    return result;
  }

  /** Every line item from `after` on, a page of 100 at a time. */
  async function itemsAfter(sessionId: string, after: string | undefined): Promise<LineItemPayload[]> {
    const items: LineItemPayload[] = [];
    let cursor = after;
    for (;;) {
      const page = await found<StripeList<LineItemPayload & { id: string }>>(
        `/v1/checkout/sessions/${encodeURIComponent(sessionId)}/line_items`,
        [
          ["limit", String(PAGE_SIZE)],
          ["expand[]", "data.price.product"],
          ...(cursor ? ([["starting_after", cursor]] as Query) : []),
        ],
      );
      items.push(...page.data);
      cursor = page.data.at(-1)?.id;
      if (!page.has_more || cursor === undefined) return items;
    }
  }

  const sessionPath = (sessionId: string) => `/v1/checkout/sessions/${encodeURIComponent(sessionId)}`;

  return {
    async readSession(sessionId) {
      const session = await call<
        SessionPayload & { line_items?: StripeList<LineItemPayload & { id: string }> }
      >("GET", sessionPath(sessionId), [["expand[]", "line_items.data.price.product"]]);
      if (!session) return undefined;
      const { line_items: first, ...rest } = session;
      if (!first) return { session: rest, lineItems: await itemsAfter(sessionId, undefined) };
      const last = first.data.at(-1)?.id;
      const more = first.has_more && last !== undefined ? await itemsAfter(sessionId, last) : [];
      return { session: rest, lineItems: [...first.data, ...more] };
    },
    lineItems: {
      listLineItems: (sessionId) => itemsAfter(sessionId, undefined),
    },
    sessions: {
      retrieve: (sessionId) => upstreamOnly(() => call<SessionPayload>("GET", sessionPath(sessionId), [])),
      async markFulfilled(sessionId, at) {
        // Updating metadata merges keys; other metadata (linkshop_id) stays.
        await upstreamOnly(() =>
          call("POST", sessionPath(sessionId), [
            [`metadata[${FULFILLED_MARKER}]`, at.toISOString()],
            [`metadata[${ORDER_NUMBER_KEY}]`, orderNumber(sessionId)],
          ]),
        );
      },
      async listComplete(since, cursor): Promise<SessionPage> {
        const page = await upstreamOnly(() =>
          found<StripeList<SessionPayload>>("/v1/checkout/sessions", [
            ["status", "complete"],
            ["created[gte]", String(since)],
            ["limit", String(PAGE_SIZE)],
            ...(cursor ? ([["starting_after", cursor]] as Query) : []),
          ]),
        );
        return { sessions: page.data, nextCursor: page.has_more ? page.data.at(-1)?.id : undefined };
      },
      async findByPaymentIntent(paymentIntent) {
        const page = await upstreamOnly(() =>
          found<StripeList<SessionPayload>>("/v1/checkout/sessions", [
            ["payment_intent", paymentIntent],
            ["limit", "1"],
          ]),
        );
        return page.data[0];
      },
    },
  };
}

/** SessionSource throws UpstreamError on every failure (its contract), a refused request included. */
async function upstreamOnly<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof PermanentError)
      throw new UpstreamError("stripe", error.reason, { cause: error.cause ?? error });
    throw error;
  }
}

function errorCode(body: unknown): string | undefined {
  const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
  return typeof code === "string" ? code : undefined;
}

function errorMessage(body: unknown): string {
  const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
  return typeof message === "string" ? message : "no message";
}
