/** Runtime configuration: read once per cold start from the environment, validated, typed. */
import * as v from "valibot";
import { isLiveKey, STRIPE_KEY, STRIPE_KEY_HINT } from "./lib/stripe-keys.ts";
import type { SessionScope } from "./order/session.ts";

/** Everything the webhook needs to run, already trimmed and checked. */
export interface Config {
  stripeSecretKey: string;
  stripeWebhookSecret: string;
  /**
   * Base URL of the Stripe API for local emulators and tests, e.g. http://127.0.0.1:12111; undefined = Stripe.
   * Always https with a live key.
   */
  stripeApiBase: URL | undefined;
  /** Upstash REST URL; always https with a live Stripe key (plain http only for the local bridge, in test mode). */
  upstashUrl: string;
  upstashToken: string;
  resendApiKey: string;
  /** Sender, e.g. `Shop <orders@shop.example>`. */
  emailFrom: string;
  /** Receives a new-order notification when set. */
  merchantEmail: string | undefined;
  /** Public URL of the shop (Netlify sets `URL`); linked from emails when known. */
  siteUrl: string | undefined;
  /**
   * Which Checkout Sessions of the Stripe account are fulfilled: `shop` (default: sessions of the catalog's Payment
   * Links, which carry metadata `linkshop_id`), `payment_links` (any Payment Link) or `all` (every session).
   */
  sessionScope: SessionScope;
  /** Prefix of every Redis key (default `linkshop:`), so several shops or test runs can share one database. */
  redisPrefix: string;
  /** Signs the download links of the shop's files; orders with files wait (failed, alerted) without it. */
  downloadSecret: string | undefined;
  /** Requests per second the shop allows itself at Resend, shared by every invocation (default 2). */
  emailRequestsPerSecond: number;
}

/** Thrown when the environment cannot produce a Config; the message names every offending variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly missing: string[],
    /** Variable name -> what is wrong with it (never its value). */
    readonly malformed: Map<string, string>,
  ) {
    const parts = [];
    if (missing.length > 0) parts.push(`Missing ${missing.join(", ")}`);
    if (malformed.size > 0) {
      parts.push(`Malformed ${[...malformed].map(([name, problem]) => `${name} (${problem})`).join(", ")}`);
    }
    super(`${parts.join("; ")} (see .env.example)`);
  }
}

// Secrets are often pasted with a trailing newline or spaces; an untrimmed webhook secret fails every signature.
const text = v.pipe(v.string(), v.trim());
const required = (check?: v.GenericPipeItem<string, string>) =>
  check ? v.pipe(text, v.nonEmpty(), check) : v.pipe(text, v.nonEmpty());
const optional = (check?: v.GenericPipeItem<string, string>) =>
  v.optional(
    v.pipe(
      text,
      v.transform((s) => (s === "" ? undefined : s)),
      v.union([v.undefined(), check ? v.pipe(v.string(), check) : v.string()]),
    ),
  );
const DOWNLOAD_SECRET_HINT = "must be at least 32 characters (e.g. openssl rand -hex 32)";
const httpUrl = v.check((s: string) => /^https?:\/\//.test(s) && URL.canParse(s), "must be an http(s) URL");
const emailAddress = /[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+/;
// `orders@shop.example` or `Shop <orders@shop.example>`.
const mailbox = v.check(
  (s: string) => new RegExp(`^(${emailAddress.source}|[^<>]*<${emailAddress.source}>)$`).test(s),
  "must be an address or `Name <address>`",
);

const variables = v.object({
  STRIPE_SECRET_KEY: required(v.regex(STRIPE_KEY, STRIPE_KEY_HINT)),
  STRIPE_WEBHOOK_SECRET: required(v.regex(/^whsec_\S+$/, "must start with whsec_")),
  UPSTASH_REDIS_REST_URL: required(httpUrl),
  UPSTASH_REDIS_REST_TOKEN: required(),
  RESEND_API_KEY: required(),
  EMAIL_FROM: required(mailbox),
  MERCHANT_EMAIL: optional(v.regex(new RegExp(`^${emailAddress.source}$`), "must be an email address")),
  STRIPE_API_BASE: optional(httpUrl),
  URL: optional(httpUrl),
  LINKSHOP_REDIS_PREFIX: optional(v.regex(/^[A-Za-z0-9:_-]{1,64}$/, "must be 1-64 of A-Z a-z 0-9 : _ -")),
  LINKSHOP_FULFIL_SESSIONS: optional(
    v.check(
      (s: string) => ["shop", "payment_links", "all"].includes(s),
      "must be shop, payment_links or all",
    ),
  ),
  // HMAC key of the download links: long enough that it cannot be guessed (npm start makes one per run).
  LINKSHOP_DOWNLOAD_SECRET: optional(v.minLength(32, DOWNLOAD_SECRET_HINT)),
  // Resend's limit per team, which other apps on the same team share: 2 by default (its error messages' figure).
  LINKSHOP_EMAIL_RATE: optional(
    v.check(
      (s: string) => /^\d{1,2}$/.test(s) && Number(s) >= 1,
      "must be a whole number of requests per second, 1-99",
    ),
  ),
});

/**
 * A live key must not travel in clear text: with one, the Stripe API base and the Upstash URL (whose token goes
 * with every request) must be https. Plain http is for the local stand-ins (the Stripe emulator, the Upstash
 * bridge), which run in test mode only. Returns the offending URLs as name -> problem, reported with the rest.
 */
function insecureWithLiveKey(env: Record<string, string | undefined>): [string, string][] {
  if (!isLiveKey(env.STRIPE_SECRET_KEY)) return [];
  return (["STRIPE_API_BASE", "UPSTASH_REDIS_REST_URL"] as const).flatMap((name): [string, string][] => {
    const url = env[name]?.trim();
    return url && URL.canParse(url) && new URL(url).protocol !== "https:"
      ? [[name, "must be https with a live key"]]
      : [];
  });
}

/** Variables Linkshop reads; used to report problems in a stable order. */
export const CONFIG_VARIABLES = Object.keys(variables.entries) as (keyof typeof variables.entries)[];

/**
 * Validates the environment. Throws one ConfigError naming every missing or malformed variable.
 * Values are never echoed back: they may be secrets.
 */
export function readConfig(env: Record<string, string | undefined>): Config {
  const vars = parsed(variables, env, insecureWithLiveKey(env));
  return {
    stripeSecretKey: vars.STRIPE_SECRET_KEY,
    stripeWebhookSecret: vars.STRIPE_WEBHOOK_SECRET,
    stripeApiBase: vars.STRIPE_API_BASE === undefined ? undefined : new URL(vars.STRIPE_API_BASE),
    upstashUrl: vars.UPSTASH_REDIS_REST_URL,
    upstashToken: vars.UPSTASH_REDIS_REST_TOKEN,
    resendApiKey: vars.RESEND_API_KEY,
    emailFrom: vars.EMAIL_FROM,
    merchantEmail: vars.MERCHANT_EMAIL,
    siteUrl: vars.URL,
    sessionScope: (vars.LINKSHOP_FULFIL_SESSIONS ?? "shop") as SessionScope,
    redisPrefix: vars.LINKSHOP_REDIS_PREFIX ?? "linkshop:",
    downloadSecret: vars.LINKSHOP_DOWNLOAD_SECRET,
    emailRequestsPerSecond: Number(vars.LINKSHOP_EMAIL_RATE ?? 2),
  };
}

/** What the download function needs, and no more: the store, the links' secret and the site. */
export interface DownloadConfig {
  upstashUrl: string;
  upstashToken: string;
  redisPrefix: string;
  downloadSecret: string;
  siteUrl: string | undefined;
}

// The download function reads only these; a link is worth nothing without the secret that signed it.
const downloadVariables = v.object({
  ...v.pick(variables, ["UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN", "LINKSHOP_REDIS_PREFIX", "URL"])
    .entries,
  LINKSHOP_DOWNLOAD_SECRET: required(v.minLength(32, DOWNLOAD_SECRET_HINT)),
});

/** Validates the download function's environment; throws one ConfigError like readConfig. */
export function readDownloadConfig(env: Record<string, string | undefined>): DownloadConfig {
  const vars = parsed(downloadVariables, env);
  return {
    upstashUrl: vars.UPSTASH_REDIS_REST_URL,
    upstashToken: vars.UPSTASH_REDIS_REST_TOKEN,
    redisPrefix: vars.LINKSHOP_REDIS_PREFIX ?? "linkshop:",
    downloadSecret: vars.LINKSHOP_DOWNLOAD_SECRET,
    siteUrl: vars.URL,
  };
}

/** What a function that only reads Redis needs (the stock function): the store and its key prefix. */
export interface StoreConfig {
  upstashUrl: string;
  upstashToken: string;
  redisPrefix: string;
}

const storeVariables = v.pick(variables, [
  "UPSTASH_REDIS_REST_URL",
  "UPSTASH_REDIS_REST_TOKEN",
  "LINKSHOP_REDIS_PREFIX",
]);

/** Validates the store's variables only; throws one ConfigError like readConfig. */
export function readStoreConfig(env: Record<string, string | undefined>): StoreConfig {
  const vars = parsed(storeVariables, env);
  return {
    upstashUrl: vars.UPSTASH_REDIS_REST_URL,
    upstashToken: vars.UPSTASH_REDIS_REST_TOKEN,
    redisPrefix: vars.LINKSHOP_REDIS_PREFIX ?? "linkshop:",
  };
}

/** The schema's output, or one ConfigError naming every missing or malformed variable (never a value). */
function parsed<S extends v.GenericSchema<Record<string, string | undefined>>>(
  schema: S,
  env: Record<string, string | undefined>,
  /** Problems found outside the schema, as name -> problem; a schema problem of the same name comes first. */
  extra: [string, string][] = [],
): v.InferOutput<S> {
  const result = v.safeParse(schema, env);
  if (!result.success || extra.length > 0) {
    const missing = new Set<string>();
    const problems = new Map<string, string>();
    for (const issue of result.issues ?? []) {
      const name = issue.path?.[0]?.key;
      if (typeof name !== "string") continue;
      const absent =
        issue.input === undefined || (typeof issue.input === "string" && issue.input.trim() === "");
      if (absent) missing.add(name);
      // Custom checks carry a human message; built-in ones quote the input, which may be a secret.
      else if (!problems.has(name))
        problems.set(name, issue.message.startsWith("must ") ? issue.message : "invalid");
    }
    for (const [name, problem] of extra)
      if (!missing.has(name) && !problems.has(name)) problems.set(name, problem);
    const malformed = new Map(
      CONFIG_VARIABLES.flatMap((name) =>
        problems.has(name) ? [[name, problems.get(name) ?? ""] as const] : [],
      ),
    );
    throw new ConfigError(
      CONFIG_VARIABLES.filter((name) => missing.has(name)),
      malformed,
    );
  }
  return result.output as v.InferOutput<S>;
}
