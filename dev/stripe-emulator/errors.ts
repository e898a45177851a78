// Stripe-shaped API errors: what the SDK turns into StripeInvalidRequestError, StripeAPIError, etc.
import type { Context } from "hono";

/** Stripe's error `type` values the emulator produces. */
export type StripeErrorType = "invalid_request_error" | "api_error" | "idempotency_error";

/** An error the API layer renders as `{ error: { type, message, param, code } }` with `status`. */
export class StripeError extends Error {
  readonly status: number;
  readonly type: StripeErrorType;
  readonly code: string | undefined;
  readonly param: string | undefined;

  constructor(
    status: number,
    message: string,
    options: { type?: StripeErrorType; code?: string; param?: string } = {},
  ) {
    super(message);
    this.name = "StripeError";
    this.status = status;
    this.type = options.type ?? "invalid_request_error";
    this.code = options.code;
    this.param = options.param;
  }

  /** The JSON body Stripe sends for this error. */
  toBody(): { error: Record<string, string> } {
    const error: Record<string, string> = { type: this.type, message: this.message };
    if (this.code !== undefined) {
      error.code = this.code;
      error.doc_url = `https://stripe.com/docs/error-codes/${this.code.replaceAll("_", "-")}`;
    }
    if (this.param !== undefined) error.param = this.param;
    return { error };
  }
}

/** 400 for a parameter that is missing, malformed or not allowed. */
export function invalidParam(param: string, message: string, code = "parameter_invalid_empty"): StripeError {
  return new StripeError(400, message, { param, code });
}

/** 400 naming a parameter that is required but absent. */
export function missingParam(param: string): StripeError {
  return new StripeError(400, `Missing required param: ${param}.`, { param, code: "parameter_missing" });
}

/** 400 for a parameter the endpoint does not know. */
export function unknownParam(param: string): StripeError {
  return new StripeError(400, `Received unknown parameter: ${param}`, { param, code: "parameter_unknown" });
}

/** 404 (or 400 when the id came from another object's parameter) `resource_missing`. */
export function resourceMissing(objectName: string, id: string, param = "id", status = 404): StripeError {
  return new StripeError(status, `No such ${objectName}: '${id}'`, { param, code: "resource_missing" });
}

/** 400 for a request that is well formed but not allowed in the object's current state. */
export function invalidState(message: string, param?: string): StripeError {
  return new StripeError(400, message, param === undefined ? {} : { param });
}

/** Renders an error as Stripe does (also used for injected failures and refused dev requests). */
export function errorResponse(c: Context, error: StripeError): Response {
  return c.json(error.toBody(), error.status as 400);
}
