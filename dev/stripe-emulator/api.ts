// The /v1 REST routes: API-key auth, idempotency keys, Stripe-shaped errors, expand[] on every response.
import { type Context, Hono } from "hono";
import {
  createPaymentLink,
  createPrice,
  createProduct,
  deleteProduct,
  listPaymentLinkLineItems,
  listPaymentLinks,
  listPrices,
  listProducts,
  updatePaymentLink,
  updatePrice,
  updateProduct,
} from "./catalog.ts";
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  listEvents,
  listWebhookEndpoints,
  updateWebhookEndpoint,
} from "./endpoints.ts";
import { closeDispute, listDisputes, updateDispute } from "./disputes.ts";
import { errorResponse, resourceMissing, StripeError } from "./errors.ts";
import { expand } from "./lists.ts";
import { newId } from "./objects.ts";
import type { ListenHub } from "./listen.ts";
import { type Params, parseForm } from "./params.ts";
import {
  confirmPaymentIntent,
  createPaymentIntent,
  listCharges,
  listPaymentIntents,
} from "./payment-intents.ts";
import { confirmPaymentPage, createPaymentMethod } from "./payment-pages.ts";
import { createRefund, chargeRefunds, listRefunds, updateRefund } from "./refunds.ts";
import {
  createSession,
  expireSession,
  getSession,
  listSessionLineItems,
  listSessions,
  updateSession,
} from "./sessions.ts";
import type { EmulatorState, RequestInfo } from "./state.ts";

type Env = { Variables: { requestId: string; idempotencyKey: string | null } };

function apiKeyFrom(header: string | undefined): string | null {
  if (!header) return null;
  const [scheme, value] = header.split(/\s+/, 2);
  if (!value) return null;
  if (scheme?.toLowerCase() === "bearer") return value;
  // curl -u sk_test_...: sends Basic base64("key:")
  if (scheme?.toLowerCase() === "basic")
    return Buffer.from(value, "base64").toString("utf8").split(":")[0] ?? null;
  return null;
}

// Shows only enough of a key to recognise it, as Stripe's error messages do.
function redactKey(key: string): string {
  return key.length > 12 ? `${key.slice(0, 8)}${"*".repeat(key.length - 12)}${key.slice(-4)}` : "****";
}

interface StoredResponse {
  fingerprint: string;
  status: number;
  body: string;
}

/** What the routes need besides the state. */
export interface ApiContext {
  /** Schedules the result of a delayed payment method. */
  onDelayed: (sessionId: string, succeeds: boolean) => void;
  /** `stripe listen` sessions. */
  listen: ListenHub;
}

/** Builds the /v1 routes over `state`. */
export function apiRoutes(state: EmulatorState, context: ApiContext): Hono<Env> {
  const app = new Hono<Env>();
  // Idempotency-Key -> the first response, replayed for retries of the same request (the SDK keys every POST).
  const idempotent = new Map<string, StoredResponse>();

  app.use("/v1/*", async (c, next) => {
    const requestId = newId("req");
    c.set("requestId", requestId);
    c.header("Request-Id", requestId);
    c.header("Stripe-Version", c.req.header("stripe-version") ?? state.apiVersion);
    const key = apiKeyFrom(c.req.header("authorization"));
    if (key === null) {
      return errorResponse(
        c,
        new StripeError(
          401,
          "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        ),
      );
    }
    // Only test-mode keys: a live key pointed at the emulator is a configuration mistake worth failing loudly.
    if (!/^(sk|rk)_test_[A-Za-z0-9_]+$/.test(key)) {
      return errorResponse(c, new StripeError(401, `Invalid API Key provided: ${redactKey(key)}`));
    }
    const version = c.req.header("stripe-version");
    if (version !== undefined && !/^\d{4}-\d{2}-\d{2}(\.[a-z]+)?(;.*)?$/.test(version)) {
      return errorResponse(c, new StripeError(400, `Invalid Stripe API version: ${version}`));
    }

    const idempotencyKey = c.req.method === "POST" ? (c.req.header("idempotency-key") ?? null) : null;
    c.set("idempotencyKey", idempotencyKey);
    if (idempotencyKey === null) return next();
    const fingerprint = `${c.req.method} ${c.req.path} ${await c.req.text()}`;
    const stored = idempotent.get(idempotencyKey);
    if (stored) {
      if (stored.fingerprint !== fingerprint) {
        return errorResponse(
          c,
          new StripeError(
            400,
            `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
            { type: "idempotency_error" },
          ),
        );
      }
      c.header("Idempotent-Replayed", "true");
      return c.body(stored.body, stored.status as 200, { "content-type": "application/json" });
    }
    await next();
    // Like Stripe, server errors are not saved, so a retry after a 500 runs the request again.
    if (c.res.status < 500) {
      idempotent.set(idempotencyKey, { fingerprint, status: c.res.status, body: await c.res.clone().text() });
    }
  });

  app.onError((error, c) => {
    if (error instanceof StripeError) return errorResponse(c, error);
    console.error("stripe-emulator.internal_error", { message: error.message, stack: error.stack });
    return errorResponse(
      c,
      new StripeError(500, "An unexpected error occurred in the emulator.", { type: "api_error" }),
    );
  });

  const request = (c: Context<Env>): RequestInfo => ({
    id: c.get("requestId"),
    idempotencyKey: c.get("idempotencyKey"),
  });
  const query = (c: Context<Env>): Params => parseForm(new URL(c.req.url).search.slice(1));
  const body = async (c: Context<Env>): Promise<Params> => parseForm(await c.req.text());
  const id = (c: Context<Env>): string => c.req.param("id") ?? "";
  /** Responds with `value` after applying the request's `expand[]`. */
  const send = (c: Context<Env>, params: Params, value: object): Response =>
    c.json(expand(structuredClone(value), params.stringList("expand"), state.resolveExpand));
  /** Retrieve endpoints accept only `expand`. */
  const retrieve = (c: Context<Env>, value: () => object): Response => {
    const params = query(c);
    params.allowOnly(["expand"]);
    return send(c, params, value());
  };

  /**
   * The routes of one kind of object at `path`: POST `path` creates, GET `path` lists, and GET, POST and DELETE
   * `path/:id` retrieve, update and delete; each only where the object has it.
   */
  const resource = (
    path: string,
    handlers: {
      create?: (params: Params, request: RequestInfo) => object;
      list?: (params: Params) => object;
      retrieve?: (id: string) => object;
      update?: (id: string, params: Params, request: RequestInfo) => object;
      remove?: (id: string, request: RequestInfo) => object;
    },
  ): void => {
    const { create, list, retrieve: one, update, remove } = handlers;
    if (create) app.post(path, async (c) => posted(c, (params) => create(params, request(c))));
    if (list) app.get(path, (c) => listed(c, list));
    if (one) app.get(`${path}/:id`, (c) => retrieve(c, () => one(id(c))));
    if (update)
      app.post(`${path}/:id`, async (c) => posted(c, (params) => update(id(c), params, request(c))));
    if (remove) app.delete(`${path}/:id`, (c) => c.json(remove(id(c), request(c))));
  };
  /** A POST: its form body's params, given to `run`, expanded as asked. */
  const posted = async (c: Context<Env>, run: (params: Params) => object): Promise<Response> => {
    const params = await body(c);
    return send(c, params, run(params));
  };
  /** A GET of a list: its query params, given to `run`, expanded as asked. */
  const listed = (c: Context<Env>, run: (params: Params) => object): Response => {
    const params = query(c);
    return send(c, params, run(params));
  };

  resource("/v1/products", {
    create: (params, req) => createProduct(state, params, req),
    list: (params) => listProducts(state, params),
    retrieve: (productId) => state.product(productId),
    update: (productId, params, req) => updateProduct(state, productId, params, req),
    remove: (productId, req) => deleteProduct(state, productId, req),
  });
  resource("/v1/prices", {
    create: (params, req) => createPrice(state, params, req),
    list: (params) => listPrices(state, params),
    retrieve: (priceId) => state.price(priceId),
    update: (priceId, params, req) => updatePrice(state, priceId, params, req),
  });
  resource("/v1/payment_links", {
    create: (params, req) => createPaymentLink(state, params, req),
    list: (params) => listPaymentLinks(state, params),
    retrieve: (linkId) => state.paymentLink(linkId).link,
    update: (linkId, params, req) => updatePaymentLink(state, linkId, params, req),
  });
  app.get("/v1/payment_links/:id/line_items", (c) =>
    listed(c, (params) => listPaymentLinkLineItems(state, id(c), params)),
  );

  resource("/v1/checkout/sessions", {
    create: (params) => createSession(state, params),
    list: (params) => listSessions(state, params),
    retrieve: (sessionId) => getSession(state, sessionId).session,
    update: (sessionId, params) => updateSession(state, sessionId, params),
  });
  app.post("/v1/checkout/sessions/:id/expire", async (c) =>
    posted(c, (params) => {
      params.allowOnly(["expand"]);
      return expireSession(state, id(c), request(c));
    }),
  );
  app.get("/v1/checkout/sessions/:id/line_items", (c) =>
    listed(c, (params) => listSessionLineItems(state, id(c), params)),
  );

  // What `stripe trigger` calls to pay a session the way the hosted page does.
  resource("/v1/payment_methods", {
    create: (params) => createPaymentMethod(state, params),
    retrieve: (methodId) => {
      const method = state.paymentMethods.get(methodId);
      if (!method) throw resourceMissing("payment_method", methodId);
      return method;
    },
  });
  // Stripe's payment pages API is internal; the emulator answers with the session the page shows.
  app.get("/v1/payment_pages/:id", (c) => retrieve(c, () => getSession(state, id(c)).session));
  app.post("/v1/payment_pages/:id/confirm", async (c) =>
    posted(c, (params) => confirmPaymentPage(state, id(c), params, context.onDelayed).session),
  );

  // The PaymentIntent and Charge behind a paid session, and card PaymentIntents made through the API.
  resource("/v1/payment_intents", {
    create: (params, req) => createPaymentIntent(state, params, req),
    list: (params) => listPaymentIntents(state, params),
    retrieve: (intentId) => state.paymentIntent(intentId),
  });
  app.post("/v1/payment_intents/:id/confirm", async (c) =>
    posted(c, (params) => confirmPaymentIntent(state, id(c), params, request(c))),
  );
  resource("/v1/refunds", {
    create: (params, req) => createRefund(state, params, req),
    list: (params) => listRefunds(state, params),
    retrieve: (refundId) => state.refund(refundId),
    update: (refundId, params, req) => updateRefund(state, refundId, params, req),
  });
  resource("/v1/charges", {
    list: (params) => listCharges(state, params),
    retrieve: (chargeId) => state.charge(chargeId),
  });
  app.get("/v1/charges/:id/refunds", (c) => listed(c, (params) => chargeRefunds(state, id(c), params)));
  // Disputes are opened by the cardholder (a dispute test card, or the emulator's /_emulator/disputes), not the API.
  resource("/v1/disputes", {
    list: (params) => listDisputes(state, params),
    retrieve: (disputeId) => state.dispute(disputeId),
    update: (disputeId, params, req) => updateDispute(state, disputeId, params, req),
  });
  app.post("/v1/disputes/:id/close", async (c) =>
    posted(c, (params) => {
      params.allowOnly(["expand"]);
      return closeDispute(state, id(c), request(c));
    }),
  );

  app.post("/v1/stripecli/sessions", async (c) => c.json(context.listen.createSession(await body(c))));

  resource("/v1/events", {
    list: (params) => listEvents(state, params),
    retrieve: (eventId) => state.event(eventId),
  });
  resource("/v1/webhook_endpoints", {
    create: (params) => createWebhookEndpoint(state, params),
    list: (params) => listWebhookEndpoints(state, params),
    retrieve: (endpointId) => state.webhookEndpoint(endpointId).endpoint,
    update: (endpointId, params) => updateWebhookEndpoint(state, endpointId, params),
    remove: (endpointId) => deleteWebhookEndpoint(state, endpointId),
  });

  app.all("/v1/*", (c) =>
    errorResponse(
      c,
      new StripeError(404, `Unrecognized request URL (${c.req.method}: ${c.req.path}).`, {
        code: "resource_missing",
      }),
    ),
  );

  return app;
}
