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
import { resourceMissing, StripeError } from "./errors.ts";
import { expand } from "./lists.ts";
import { newId } from "./objects.ts";
import type { ListenHub } from "./listen.ts";
import { type Params, parseForm } from "./params.ts";
import { confirmPaymentPage, createPaymentMethod } from "./payment-pages.ts";
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

/** Renders an error as Stripe does (also used for injected failures). */
export function errorResponse(c: Context, error: StripeError): Response {
  return c.json(error.toBody(), error.status as 400);
}

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

  app.post("/v1/products", async (c) => {
    const params = await body(c);
    return send(c, params, createProduct(state, params, request(c)));
  });
  app.get("/v1/products", (c) => {
    const params = query(c);
    return send(c, params, listProducts(state, params));
  });
  app.get("/v1/products/:id", (c) => retrieve(c, () => state.product(id(c))));
  app.post("/v1/products/:id", async (c) => {
    const params = await body(c);
    return send(c, params, updateProduct(state, id(c), params, request(c)));
  });
  app.delete("/v1/products/:id", (c) => c.json(deleteProduct(state, id(c), request(c))));

  app.post("/v1/prices", async (c) => {
    const params = await body(c);
    return send(c, params, createPrice(state, params, request(c)));
  });
  app.get("/v1/prices", (c) => {
    const params = query(c);
    return send(c, params, listPrices(state, params));
  });
  app.get("/v1/prices/:id", (c) => retrieve(c, () => state.price(id(c))));
  app.post("/v1/prices/:id", async (c) => {
    const params = await body(c);
    return send(c, params, updatePrice(state, id(c), params, request(c)));
  });

  app.post("/v1/payment_links", async (c) => {
    const params = await body(c);
    return send(c, params, createPaymentLink(state, params, request(c)));
  });
  app.get("/v1/payment_links", (c) => {
    const params = query(c);
    return send(c, params, listPaymentLinks(state, params));
  });
  app.get("/v1/payment_links/:id", (c) => retrieve(c, () => state.paymentLink(id(c)).link));
  app.post("/v1/payment_links/:id", async (c) => {
    const params = await body(c);
    return send(c, params, updatePaymentLink(state, id(c), params, request(c)));
  });
  app.get("/v1/payment_links/:id/line_items", (c) => {
    const params = query(c);
    return send(c, params, listPaymentLinkLineItems(state, id(c), params));
  });

  app.post("/v1/checkout/sessions", async (c) => {
    const params = await body(c);
    return send(c, params, createSession(state, params));
  });
  app.get("/v1/checkout/sessions", (c) => {
    const params = query(c);
    return send(c, params, listSessions(state, params));
  });
  app.get("/v1/checkout/sessions/:id", (c) => retrieve(c, () => getSession(state, id(c)).session));
  app.post("/v1/checkout/sessions/:id", async (c) => {
    const params = await body(c);
    return send(c, params, updateSession(state, id(c), params));
  });
  app.post("/v1/checkout/sessions/:id/expire", async (c) => {
    const params = await body(c);
    params.allowOnly(["expand"]);
    return send(c, params, expireSession(state, id(c), request(c)));
  });
  app.get("/v1/checkout/sessions/:id/line_items", (c) => {
    const params = query(c);
    return send(c, params, listSessionLineItems(state, id(c), params));
  });

  // What `stripe trigger` calls to pay a session the way the hosted page does.
  app.post("/v1/payment_methods", async (c) => {
    const params = await body(c);
    return send(c, params, createPaymentMethod(state, params));
  });
  app.get("/v1/payment_methods/:id", (c) =>
    retrieve(c, () => {
      const method = state.paymentMethods.get(id(c));
      if (!method) throw resourceMissing("payment_method", id(c));
      return method;
    }),
  );
  // Stripe's payment pages API is internal; the emulator answers with the session the page shows.
  app.get("/v1/payment_pages/:id", (c) => retrieve(c, () => getSession(state, id(c)).session));
  app.post("/v1/payment_pages/:id/confirm", async (c) => {
    const params = await body(c);
    return send(c, params, confirmPaymentPage(state, id(c), params, context.onDelayed).session);
  });

  // The PaymentIntent and Charge behind a paid session; read-only.
  app.get("/v1/payment_intents/:id", (c) => retrieve(c, () => state.paymentIntent(id(c))));
  app.get("/v1/charges/:id", (c) => retrieve(c, () => state.charge(id(c))));

  app.post("/v1/stripecli/sessions", async (c) => {
    const params = await body(c);
    return c.json(context.listen.createSession(params));
  });

  app.get("/v1/events", (c) => {
    const params = query(c);
    return send(c, params, listEvents(state, params));
  });
  app.get("/v1/events/:id", (c) => retrieve(c, () => state.event(id(c))));

  app.post("/v1/webhook_endpoints", async (c) => {
    const params = await body(c);
    return send(c, params, createWebhookEndpoint(state, params));
  });
  app.get("/v1/webhook_endpoints", (c) => {
    const params = query(c);
    return send(c, params, listWebhookEndpoints(state, params));
  });
  app.get("/v1/webhook_endpoints/:id", (c) => retrieve(c, () => state.webhookEndpoint(id(c)).endpoint));
  app.post("/v1/webhook_endpoints/:id", async (c) => {
    const params = await body(c);
    return send(c, params, updateWebhookEndpoint(state, id(c), params));
  });
  app.delete("/v1/webhook_endpoints/:id", (c) => c.json(deleteWebhookEndpoint(state, id(c))));

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
