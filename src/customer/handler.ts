/**
 * The customer's own pages. `/orders`: a form asking for a sign-in link by email; the answer is the same page,
 * status and time whether or not the shop has orders for the address (the same store commands either way, and the
 * email leaves after the response). `/orders/<token>`: the orders of the customer the link names, with their
 * download links and "email me this receipt again". Budgets: sign-in requests per client and per address, and page
 * views per client.
 */
import type { ConfigError } from "../config.ts";
import { renderSignIn } from "../email/sign-in.ts";
import { downloadLinks, linkProblem } from "../fulfilment/downloads.ts";
import { type FulfilmentDeps, resendReceipt } from "../fulfilment/fulfil.ts";
import type { CustomerOrders, MailJob } from "../fulfilment/ports.ts";
import { type Translator, translator } from "../i18n/messages.ts";
import { readBodyLimited } from "../lib/body.ts";
import { failureReply } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import { customerHash } from "../order/customers.ts";
import type { LedgerRecord } from "../order/ledger.ts";
import type { LineItemPayload, SessionPayload } from "../order/model.ts";
import { emailKey, isCustomerEmail, SESSION_ID, sessionKey } from "../order/session.ts";
import { signInGrant, signSignIn, verifySignIn } from "../order/sign-in.ts";
import { siteAsset } from "../shop/info.ts";
import {
  badLinkPage,
  type CustomerOrder,
  documentOf,
  findPage,
  ORDERS_PATH,
  ordersPage,
  otherSitePage,
  type Page,
  resendPage,
  sentPage,
  tryLaterPage,
  unavailablePage,
} from "./pages.ts";
import { PRIVATE_PAGE_HEADERS } from "../shop/page.ts";

/** What a budget allows now. `retryAfterSeconds` is 0 when allowed. */
export interface LimitDecision {
  allowed: boolean;
  retryAfterSeconds: number;
}

/** A budget of requests per client address (hashed by the limiter; never stored or logged as is). */
export interface ClientLimiter {
  take(client: string | undefined): Promise<LimitDecision>;
}

/** A budget of sign-in requests per customer; an allowed request gets a slot naming its email once. */
export interface AddressLimiter {
  take(customer: string): Promise<LimitDecision & { slot?: string }>;
}

/** Queues a customer's email only when the customer has orders: the same store work either way. */
export interface SignInQueue {
  queueIfKnown(customer: string, job: MailJob): Promise<void>;
}

/** A Checkout Session and all its line items, read from Stripe in one call. */
export interface CheckoutReader {
  readSession(
    sessionId: string,
  ): Promise<{ session: SessionPayload; lineItems: LineItemPayload[] } | undefined>;
}

/** What the customer's pages run on: fulfilment's ports (for the receipt), and their own. */
export interface CustomerDeps extends FulfilmentDeps {
  /** The shop's secret (LINKSHOP_DOWNLOAD_SECRET): keys the customers' hashes and signs the links. */
  downloadSecret: string;
  customers: Pick<CustomerOrders, "list">;
  signIns: SignInQueue;
  limits: {
    /** Sign-in requests per client address. */
    client: ClientLimiter;
    /** Sign-in requests per email address, counted for every request naming it. */
    address: AddressLimiter;
    /** Views and actions of the orders page per client address. */
    pages: ClientLimiter;
  };
  checkout: CheckoutReader;
}

/** Who is asking and what the platform offers the request (Netlify's Context). */
export interface CustomerContext {
  /** The client's address as the platform saw it; never logged. */
  ip?: string | undefined;
  /** Work that may go on after the response (the mail queue's drain). */
  waitUntil?: (promise: Promise<unknown>) => void;
}

/** How many orders the page lists, newest first. */
export const ORDERS_SHOWN = 50;
/** "Email me this receipt again": at most once per order in this long. Seconds. */
export const RESEND_INTERVAL_SECONDS = 60 * 60;
/** The largest form body read. Bytes. */
const MAX_FORM_BYTES = 2_048;

/**
 * Whether a sign-in request goes ahead: only when both budgets allow it. Both are spent on every request (the
 * address's whether or not it has orders), so neither answer depends on the orders.
 */
export function signInDecision(
  client: LimitDecision,
  address: LimitDecision,
): { send: true } | { send: false; retryAfterSeconds: number; over: "client" | "address" | "both" } {
  if (client.allowed && address.allowed) return { send: true };
  const over = !client.allowed && !address.allowed ? "both" : client.allowed ? "address" : "client";
  const waits = [client, address].filter((d) => !d.allowed).map((d) => d.retryAfterSeconds);
  return { send: false, retryAfterSeconds: Math.max(1, ...waits), over };
}

/** Builds the handler; `drain` sends what waits in the mail queue (after the response when the platform can). */
export function createCustomerHandler(setup: {
  deps: CustomerDeps | ConfigError;
  log: Logger;
  drain?: () => Promise<unknown>;
}): (req: Request, context?: CustomerContext) => Promise<Response> {
  return async (req, context = {}) => {
    const started = performance.now();
    const { deps, log } = setup;
    if (deps instanceof Error) {
      log("config.invalid", { message: deps.message });
      return new Response("These pages are not configured.", { status: 500, headers: PAGE_HEADERS });
    }
    const text = translator(deps.shop.locale, "customer");
    let page: Page;
    let sends = false;
    try {
      ({ page, sends } = await respond(req, deps, text, context));
    } catch (error) {
      const failure = failureReply(error);
      page = unavailablePage(text, failure.status >= 500 ? failure.status : 503, failure.reason);
    }
    if (sends && setup.drain) {
      const draining = setup.drain().catch((error: unknown) => {
        log("customer.drain_failed", {
          level: "error",
          error: error instanceof Error ? error.name : "unknown",
        });
      });
      // After the response, so sending never shows in its time; without the platform's help the scheduled drain
      // sends what this one does not reach.
      context.waitUntil?.(draining);
    }
    deps.log("customer", {
      method: req.method,
      status: page.status,
      note: page.note,
      durationMs: Math.round(performance.now() - started),
    });
    return new Response(req.method === "HEAD" ? null : documentOf(deps.shop, page), {
      status: page.status,
      headers: {
        ...PAGE_HEADERS,
        ...(page.status === 405 && { allow: "GET, HEAD, POST" }),
        ...(page.retryAfterSeconds !== undefined && { "retry-after": String(page.retryAfterSeconds) }),
      },
    });
  };
}

const PAGE_HEADERS = PRIVATE_PAGE_HEADERS;

type Answer = { page: Page; sends: boolean };

async function respond(
  req: Request,
  deps: CustomerDeps,
  text: Translator<"customer">,
  context: CustomerContext,
): Promise<Answer> {
  const path = new URL(req.url).pathname.replace(/\/$/, "");
  const read = req.method === "GET" || req.method === "HEAD";
  if (!read && req.method !== "POST") return { page: methodNotAllowed(text), sends: false };
  // Browsers say where a form came from; only the shop's own pages (or none, as from a terminal) may send one.
  if (!read && req.headers.get("sec-fetch-site") === "cross-site")
    return { page: otherSitePage(deps.shop, text), sends: false };
  if (path === ORDERS_PATH) {
    if (read) return { page: findPage(deps.shop, text), sends: false };
    return signIn(req, deps, text, context);
  }
  const token = path.startsWith(`${ORDERS_PATH}/`) ? path.slice(ORDERS_PATH.length + 1) : "";
  // The signature is checked before anything is read: a forged or altered link costs no store command.
  const checked = verifySignIn(token, deps.downloadSecret, deps.now());
  if ("problem" in checked) return { page: badLinkPage(deps.shop, text, checked.problem), sends: false };
  const { customer } = checked.grant;
  const budget = await deps.limits.pages.take(context.ip);
  if (!budget.allowed)
    return { page: tryLaterPage(text, budget.retryAfterSeconds, "page_budget"), sends: false };
  if (read) return { page: ordersPage(deps.shop, text, await ordersOf(deps, customer)), sends: false };
  return resend(req, deps, text, customer);
}

/** POST /orders: both budgets spent, then the email queued if the address has orders; the same answer either way. */
async function signIn(
  req: Request,
  deps: CustomerDeps,
  text: Translator<"customer">,
  context: CustomerContext,
): Promise<Answer> {
  const form = await formOf(req);
  const typed = (form?.get("email") ?? "").trim();
  if (!isCustomerEmail(typed)) return { page: findPage(deps.shop, text, typed), sends: false };
  const customer = customerHash(typed, deps.downloadSecret);
  const [client, address] = await Promise.all([
    deps.limits.client.take(context.ip),
    deps.limits.address.take(customer),
  ]);
  const decision = signInDecision(client, address);
  if (!decision.send)
    return { page: tryLaterPage(text, decision.retryAfterSeconds, `over_${decision.over}`), sends: false };
  // Rendered for every address, known or not, so both take the same work; stored only for a known one.
  const token = signSignIn(signInGrant(customer, deps.now()), deps.downloadSecret);
  const url = siteAsset(deps.shop, `${ORDERS_PATH.slice(1)}/${token}`);
  if (!url) deps.log("customer.site_url_unknown", { level: "error" });
  const email = renderSignIn(url ?? "", deps.shop);
  const job: MailJob = {
    id: emailKey("sign-in", `${customer}-${address.slot ?? deps.now()}`),
    email: { to: typed, replyTo: deps.shop.supportEmail, ...email },
    queuedAt: deps.now(),
  };
  if (url) await deps.signIns.queueIfKnown(customer, job);
  return { page: sentPage(deps.shop, text), sends: true };
}

/** The customer's orders, newest first, each with fresh download links while its files may be delivered. */
async function ordersOf(deps: CustomerDeps, customer: string): Promise<CustomerOrder[]> {
  const keys = await deps.customers.list(customer, ORDERS_SHOWN);
  const records = await Promise.all(keys.map((key) => deps.ledger.get(key)));
  return records
    .filter((record): record is LedgerRecord => record !== undefined)
    .map((record) => ({ record, downloads: downloadsOf(deps, record) }));
}

function downloadsOf(deps: CustomerDeps, record: LedgerRecord): CustomerOrder["downloads"] {
  // Refunded and disputed orders (and orders not delivered yet) offer no files.
  if (record.state !== "fulfilled" || !record.sessionId || !record.files?.length) return undefined;
  if (linkProblem(deps.shop, deps.downloadSecret)) return undefined;
  // Fresh links from now, with the receipt's limits: the same download counts as the receipt's links.
  const files = record.files.map((file) => ({ ...file, itemName: "" }));
  return downloadLinks(record.sessionId, files, deps.shop, deps.downloadSecret, deps.now());
}

/**
 * POST /orders/<token> with `session`: the order's receipt again, once per order and hour, for an order listed under
 * this customer and fulfilled. One Stripe call (the session with its line items); the email leaves after the response.
 */
async function resend(
  req: Request,
  deps: CustomerDeps,
  text: Translator<"customer">,
  customer: string,
): Promise<Answer> {
  const sessionId = (await formOf(req))?.get("session") ?? "";
  if (!SESSION_ID.test(sessionId)) return { page: badLinkPage(deps.shop, text, "invalid"), sends: false };
  const key = sessionKey(sessionId);
  const listed = await deps.customers.list(customer, ORDERS_SHOWN);
  const record = listed.includes(key) ? await deps.ledger.get(key) : undefined;
  if (record?.state !== "fulfilled") return { page: resendPage(text, "refused", sessionId), sends: false };
  const claim = await deps.claims.claim(`resend:customer:${key}`, RESEND_INTERVAL_SECONDS);
  if (claim.state === "busy")
    return { page: resendPage(text, "recently", sessionId, RESEND_INTERVAL_SECONDS), sends: false };
  try {
    const read = await deps.checkout.readSession(sessionId);
    const result = read ? await resendReceipt(read.session, deps, read.lineItems, "customer") : undefined;
    if (result?.outcome !== "fulfilled") {
      await deps.claims.release(`resend:customer:${key}`, claim.token);
      deps.log("customer.resend_refused", { sessionId, reason: result?.reason ?? "unknown_session" });
      return { page: resendPage(text, "refused", sessionId), sends: false };
    }
  } catch (error) {
    // Nothing was queued: the customer may try again at once.
    await deps.claims.release(`resend:customer:${key}`, claim.token).catch(() => undefined);
    throw error;
  }
  return { page: resendPage(text, "sent", sessionId), sends: true };
}

/** The form fields of a small form-encoded body, or undefined for anything else. */
async function formOf(req: Request): Promise<URLSearchParams | undefined> {
  const type = req.headers.get("content-type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded")) return undefined;
  const body = await readBodyLimited(req, MAX_FORM_BYTES);
  return body && new URLSearchParams(new TextDecoder().decode(body));
}

function methodNotAllowed(text: Translator<"customer">): Page {
  return { ...unavailablePage(text, 405, "method_not_allowed") };
}
