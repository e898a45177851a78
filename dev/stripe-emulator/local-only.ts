// Requests that change the emulator outside the API come from this machine only, never from a page of another site.
import type { Context, MiddlewareHandler } from "hono";
import { isLocalHost, isLocalOrigin } from "../local-host.ts";
import { errorResponse, StripeError } from "./errors.ts";

/** The media type of a Content-Type header, without parameters, lower case. */
function mediaType(contentType: string | undefined): string {
  return (contentType ?? "").split(";", 1)[0]?.trim().toLowerCase() ?? "";
}

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Middleware for routes a browser page could be tricked into calling: 403 unless the Host (and the Origin, when sent)
 * name this machine; for requests that change state, 415 unless the body is `bodyType` (`application/json` for the
 * dev routes, which no page of another site can send without a CORS preflight the emulator never grants). The
 * refusal is a Stripe-shaped JSON error, and nothing has changed.
 */
export function localOnly(bodyType: string): MiddlewareHandler {
  return async (c: Context, next) => {
    if (!isLocalHost(c.req.header("host")) || !isLocalOrigin(c.req.header("origin"))) {
      return errorResponse(
        c,
        new StripeError(403, "The emulator's own routes answer requests from this machine only."),
      );
    }
    if (STATE_CHANGING.has(c.req.method) && mediaType(c.req.header("content-type")) !== bodyType) {
      return errorResponse(c, new StripeError(415, `The request body must be ${bodyType}.`));
    }
    await next();
  };
}
