/**
 * The one configuration reader of every command, and what commands build from it: the shop's services, a Stripe
 * client, the site URL.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";
import type Stripe from "stripe";
import { createStripeClient } from "../adapters/stripe.ts";
import { ConfigError, readConfig } from "../config.ts";
import type { Logger } from "../lib/log.ts";
import { isLiveKey, STRIPE_KEY, STRIPE_KEY_HINT } from "../lib/stripe-keys.ts";
import { type Services, services } from "../app/services.ts";
import { CliError, EXIT } from "./io.ts";
import { readStackRecord, type StackRecord } from "./stack-record.ts";

/** Environment variables a command may read. */
export type Env = Record<string, string | undefined>;

/** The variables, the running local stack they came from (if any), and where they were read, strongest first. */
export interface CommandEnv {
  env: Env;
  stack: StackRecord | undefined;
  sources: string[];
}

/** Where the stack record of a project lives. */
export const workDirOf = (root: string) => join(root, ".linkshop");

/**
 * Every command's configuration, in the precedence the functions themselves see under `npm start` and netlify dev:
 * the process environment wins, then what a running `npm start` gives its functions (its `.linkshop/stack.json`:
 * the emulated services on whatever ports they use), then `.env`. An empty variable in the environment counts as
 * unset, so `NAME= npm run …` does not hide what the stack or `.env` provide.
 */
export async function readCommandEnv(
  root: string,
  processEnv: Env,
  workDir = workDirOf(root),
): Promise<CommandEnv> {
  const dotenvPath = join(root, ".env");
  const dotenv = existsSync(dotenvPath) ? parseEnv(readFileSync(dotenvPath, "utf8")) : {};
  const stack = await readStackRecord(workDir);
  const sources = [
    "the environment",
    ...(stack ? [`the running npm start (${stack.shopUrl})`] : []),
    ...(existsSync(dotenvPath) ? [".env"] : []),
  ];
  const given = Object.fromEntries(Object.entries(processEnv).filter(([, value]) => value?.trim()));
  return { env: { ...dotenv, ...stack?.functionEnv, ...given }, stack, sources };
}

/** How commands reach the outside world; tests pass recorders and in-memory fakes. */
export interface Connect {
  /** A Stripe client for the key, pointed at STRIPE_API_BASE when set. */
  stripe(access: StripeAccess): Stripe;
  /** The shop's services over `env` (no request is made); throws ConfigError naming every missing variable. */
  services(env: Env, log: Logger): Services;
}

/** The real clients. */
export const realConnect: Connect = {
  stripe: (access) => createStripeClient(access.secretKey, access.apiBase),
  services(env, log) {
    const config = readConfig(env);
    // The Resend SDK reads its base URL (the outbox of a running npm start) from the process environment when the
    // mailer is built: hand it the value the precedence above chose.
    const resendBase = env.RESEND_BASE_URL?.trim();
    if (resendBase) process.env.RESEND_BASE_URL = resendBase;
    return services(config, log);
  },
};

/** The Stripe key and where its requests go. */
export interface StripeAccess {
  secretKey: string;
  /** A live key: it charges real cards and emails real customers (see confirm.ts). */
  live: boolean;
  apiBase: URL | undefined;
}

const isHttpUrl = (value: string) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);

/**
 * Reads STRIPE_SECRET_KEY (required) and STRIPE_API_BASE (optional), naming every missing or malformed one in one
 * ConfigError (exit 2). The key itself never appears in messages.
 */
export function readStripeAccess(env: Env): StripeAccess {
  const secretKey = env.STRIPE_SECRET_KEY?.trim() ?? "";
  const apiBase = env.STRIPE_API_BASE?.trim() ?? "";
  const malformed = new Map<string, string>();
  if (secretKey && !STRIPE_KEY.test(secretKey)) malformed.set("STRIPE_SECRET_KEY", STRIPE_KEY_HINT);
  if (apiBase && !isHttpUrl(apiBase)) malformed.set("STRIPE_API_BASE", "must be an http(s) URL");
  if (!secretKey || malformed.size > 0)
    throw new ConfigError(secretKey ? [] : ["STRIPE_SECRET_KEY"], malformed);
  return { secretKey, live: isLiveKey(secretKey), apiBase: apiBase ? new URL(apiBase) : undefined };
}

/** Local development site (Netlify Dev's default port). */
export const DEFAULT_SITE_URL = "http://localhost:8888";

/** An http(s) URL as `origin + path` without trailing slash; `source` names the flag or variable (exit 2). */
export function siteUrlFrom(raw: string, source: string): string {
  const value = raw.trim();
  if (!isHttpUrl(value)) throw new CliError(`${source} must be an http(s) URL, got "${value}"`, EXIT.usage);
  const url = new URL(value);
  if (url.search || url.hash)
    throw new CliError(`${source} must not have a query or fragment, got "${value}"`, EXIT.usage);
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/**
 * The public site URL: `--site-url`, else SITE_URL, else Netlify's URL, else local dev. A live key needs an https
 * URL: a live Payment Link or webhook endpoint must never point customers or Stripe at a development machine.
 */
export function resolveSiteUrl(flag: string | undefined, env: Env, live: boolean): string {
  const candidates: [string, string | undefined][] = [
    ["--site-url", flag],
    ["SITE_URL", env.SITE_URL],
    ["URL", env.URL],
  ];
  const [source, raw] = candidates.find(([, value]) => value?.trim()) ?? ["default", DEFAULT_SITE_URL];
  const url = siteUrlFrom(raw ?? DEFAULT_SITE_URL, source);
  if (live && !url.startsWith("https:")) {
    throw new CliError(
      `A live Stripe key needs the public https site URL (--site-url or URL), got "${url}"`,
      EXIT.usage,
    );
  }
  return url;
}
