/** Stripe adapter: a client that honours STRIPE_API_BASE, and the LineItemSource over it. */
import Stripe from "stripe";
import { PermanentError, UpstreamError } from "../lib/errors.ts";
import { FULFILLED_MARKER, ORDER_NUMBER_KEY } from "../order/metadata.ts";
import { orderNumber } from "../order/number.ts";
import type { LineItemPayload, SessionPayload } from "../order/model.ts";
import type { LineItemSource, SessionSource } from "../fulfilment/ports.ts";

/** A Stripe client; `apiBase` (e.g. http://127.0.0.1:12111) points it at a local emulator. */
export function createStripeClient(secretKey: string, apiBase?: URL): Stripe {
  return new Stripe(secretKey, {
    // One quick retry of network errors; beyond that, Stripe's own webhook retry is the better loop.
    maxNetworkRetries: 1,
    timeout: 10_000,
    ...(apiBase && {
      host: apiBase.hostname,
      port: Number(apiBase.port) || (apiBase.protocol === "https:" ? 443 : 80),
      protocol: apiBase.protocol === "https:" ? "https" : "http",
    }),
  });
}

/** Page size Stripe allows at most; an order of up to 100 items costs one API call. */
const PAGE_SIZE = 100;

/** Lists every line item with price.product expanded, following Stripe's cursor pagination. */
export function stripeLineItems(stripe: Stripe): LineItemSource {
  return {
    async listLineItems(sessionId) {
      const items: LineItemPayload[] = [];
      try {
        const pages = stripe.checkout.sessions.listLineItems(sessionId, {
          limit: PAGE_SIZE,
          expand: ["data.price.product"],
        });
        for await (const item of pages) items.push(item as LineItemPayload);
      } catch (error) {
        // Stripe does not know the session (a signed event from another account or mode): no retry can help.
        if (
          error instanceof Stripe.errors.StripeInvalidRequestError &&
          (error.statusCode === 404 || error.statusCode === 400)
        )
          throw new PermanentError(error.statusCode === 404 ? "unknown_session" : "stripe:400", {
            cause: error,
          });
        throw upstream(error);
      }
      return items;
    },
  };
}

/** Checkout Sessions: retrieve by id (unknown id is `undefined`), mark fulfilled, list complete ones. */
export function stripeSessions(stripe: Stripe): SessionSource {
  return {
    async retrieve(sessionId) {
      try {
        return (await stripe.checkout.sessions.retrieve(sessionId)) as SessionPayload;
      } catch (error) {
        if (error instanceof Stripe.errors.StripeInvalidRequestError && error.statusCode === 404)
          return undefined;
        throw upstream(error);
      }
    },
    async markFulfilled(sessionId, at) {
      try {
        // Updating metadata merges keys; other metadata (linkshop_id) stays.
        await stripe.checkout.sessions.update(sessionId, {
          metadata: { [FULFILLED_MARKER]: at.toISOString(), [ORDER_NUMBER_KEY]: orderNumber(sessionId) },
        });
      } catch (error) {
        throw upstream(error);
      }
    },
    async findByPaymentIntent(paymentIntent) {
      try {
        const page = await stripe.checkout.sessions.list({ payment_intent: paymentIntent, limit: 1 });
        return page.data[0] as SessionPayload | undefined;
      } catch (error) {
        throw upstream(error);
      }
    },
    async listComplete(since, cursor) {
      try {
        const page = await stripe.checkout.sessions.list({
          status: "complete",
          created: { gte: since },
          limit: PAGE_SIZE,
          ...(cursor && { starting_after: cursor }),
        });
        const sessions = page.data as SessionPayload[];
        return { sessions, nextCursor: page.has_more ? sessions.at(-1)?.id : undefined };
      } catch (error) {
        throw upstream(error);
      }
    },
  };
}

/** A log-safe failure: the status only; the SDK error (which may quote the request) stays in `cause`. */
function upstream(error: unknown): UpstreamError {
  const status = error instanceof Stripe.errors.StripeError ? (error.statusCode ?? "network") : "network";
  return new UpstreamError("stripe", `stripe:${status}`, { cause: error });
}
