/** Shared plumbing for the Stripe setup commands: output, the secret key and its live-mode guard, the site URL. */
import { isLiveKey, STRIPE_KEY, STRIPE_KEY_HINT } from "../lib/stripe-keys.ts";
import type Stripe from "stripe";
import * as v from "valibot";
import { createStripeClient } from "../adapters/stripe.ts";

/** Where a command writes; tests pass collectors, the scripts pass the console. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}

/** Environment variables a command may read. */
export type Env = Record<string, string | undefined>;

/** A failure the user can fix; its message is printed without a stack trace. */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    /** Process exit code: 1 for failures, 2 for wrong usage. */
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Local development site (Netlify Dev's default port). */
export const DEFAULT_SITE_URL = "http://localhost:8888";

const httpUrl = v.pipe(
  v.string(),
  v.trim(),
  v.check((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), "must be an http(s) URL"),
);
const envSchema = v.object({
  STRIPE_SECRET_KEY: v.pipe(v.string(), v.trim(), v.regex(STRIPE_KEY, STRIPE_KEY_HINT)),
  STRIPE_API_BASE: v.optional(v.union([v.literal(""), httpUrl])),
});

/** The Stripe key and where its requests go. */
export interface StripeAccess {
  secretKey: string;
  live: boolean;
  apiBase: URL | undefined;
}

/**
 * Reads STRIPE_SECRET_KEY (required) and STRIPE_API_BASE (optional), and refuses a live key unless `allowLive`:
 * these commands change what customers can buy. The key itself never appears in messages.
 */
export function readStripeAccess(env: Env, allowLive: boolean): StripeAccess {
  if (!env.STRIPE_SECRET_KEY?.trim()) {
    throw new CliError(
      "Missing STRIPE_SECRET_KEY: set it to your Stripe secret key (sk_test_... for test mode), e.g. in .env",
    );
  }
  const result = v.safeParse(envSchema, env);
  if (!result.success) {
    const names = result.issues.map((issue) => `${v.getDotPath(issue) ?? "environment"} ${issue.message}`);
    throw new CliError(`Malformed ${[...new Set(names)].join("; ")}`);
  }
  const { STRIPE_SECRET_KEY: secretKey, STRIPE_API_BASE: apiBase } = result.output;
  const live = isLiveKey(secretKey);
  if (live && !allowLive) {
    throw new CliError(
      "Refusing to use a live Stripe key: this would change what real customers can buy. " +
        "Re-run with --live if you mean it (add --dry-run to preview first).",
    );
  }
  return { secretKey, live, apiBase: apiBase ? new URL(apiBase) : undefined };
}

/** A Stripe client for `access`, pointed at STRIPE_API_BASE when set. */
export function stripeFor(access: StripeAccess): Stripe {
  return createStripeClient(access.secretKey, access.apiBase);
}

/**
 * The public site URL without trailing slash: `--site-url`, else SITE_URL, else Netlify's URL, else local dev.
 * A live key needs an https URL: a live Payment Link must never send customers to a development machine.
 */
export function resolveSiteUrl(flag: string | undefined, env: Env, live: boolean): string {
  const candidates: [string, string | undefined][] = [
    ["--site-url", flag],
    ["SITE_URL", env.SITE_URL],
    ["URL", env.URL],
  ];
  const [source, raw] = candidates.find(([, value]) => value?.trim()) ?? ["default", DEFAULT_SITE_URL];
  const value = (raw ?? DEFAULT_SITE_URL).trim();
  if (!v.is(httpUrl, value)) throw new CliError(`${source} must be an http(s) URL, got "${value}"`);
  const url = new URL(value);
  if (url.search || url.hash)
    throw new CliError(`${source} must not have a query or fragment, got "${value}"`);
  if (live && url.protocol !== "https:") {
    throw new CliError(`A live sync needs the public https site URL (--site-url or URL), got "${value}"`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/** Turns any thrown value into a message safe to print (no stack traces, no request bodies). */
export function describeError(error: unknown): string {
  if (error instanceof CliError) return error.message;
  if (
    error instanceof Error &&
    "type" in error &&
    typeof error.type === "string" &&
    error.type.startsWith("Stripe")
  ) {
    const status = "statusCode" in error && error.statusCode ? ` (HTTP ${String(error.statusCode)})` : "";
    return `Stripe refused the request${status}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}
