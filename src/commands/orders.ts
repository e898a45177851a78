/** `npm run orders`: the merchant's view of the ledger, and deliberate resends and retries. */
import {
  CliError,
  type Consent,
  commandFunction,
  defineCommand,
  EXIT,
  type Io,
  liveRule,
  type Proposal,
  requireConsent,
  UsageError,
} from "./kit.ts";
import { resendReceipt, retryOrder } from "../fulfilment/fulfil.ts";
import type { MailQueueStatus } from "../fulfilment/ports.ts";
import { COMMAND_DRAIN_MS, drainMail, mailLine } from "../fulfilment/mail.ts";
import type { LedgerRecord } from "../order/ledger.ts";
import { formatMoney } from "../lib/money.ts";
import { isLiveKey } from "../lib/stripe-keys.ts";
import { customerEmailOf, type SessionPayload } from "../order/model.ts";
import { inScope, maskEmail, SESSION_ID, sessionKey, sessionProblem } from "../order/session.ts";
import { customerHash } from "../order/customers.ts";
import { normalizeOrderNumber, orderNumber } from "../order/number.ts";
import type { Services } from "../app/services.ts";

/**
 * A second `resend` of the same order within this window is refused unless --force: two in a few minutes are far
 * more often a repeated command than a customer asking twice. Milliseconds.
 */
export const RESEND_WINDOW_MS = 10 * 60 * 1000;

const USAGE = `Usage: npm run orders -- [command] [options]

Commands:
  (none), list        recent orders and their state, newest first
  show <order>        one order's ledger record
  resend <order>      send a fulfilled order's receipt again, on purpose (recorded, with a fresh idempotency key);
                      refused within ${RESEND_WINDOW_MS / 60_000} minutes of the last resend unless --force
  retry <order>       re-run a failed order (receipt and merchant notice not yet accepted)
  reset-downloads <order>
                      let the customer download every file of the order again as often as the limit allows
  index               make every order in the ledger findable on the customer's own pages ("Find your order"):
                      lists the account's complete Checkout Sessions and files each recorded order under the keyed
                      hash of its customer's email (orders fulfilled from now on are filed as they are queued)

<order> is the order number the receipt shows (e.g. 7KQ4-M9PX) or the Checkout Session id (cs_test_... or cs_live_...).

Options:
  --limit <n>    how many orders to list (default 50)
  --json         machine-readable output
  --live         with a live key: resend or retry without asking (on a terminal you are asked after seeing the
                 order and its masked recipients; without one, a live key needs --live)
  --force        resend even if the receipt was resent less than ${RESEND_WINDOW_MS / 60_000} minutes ago
  -h, --help     show this help`;

const ACTIONS = ["list", "show", "resend", "retry", "reset-downloads", "index"] as const;
type Action = (typeof ACTIONS)[number];
type SendAction = Extract<Action, "resend" | "retry">;

const isAction = (value: string): value is Action => (ACTIONS as readonly string[]).includes(value);

/** `npm run orders`. */
export const ordersCommand = defineCommand({
  usage: USAGE,
  options: {
    limit: { type: "string", default: "50" },
    json: { type: "boolean", default: false },
    live: { type: "boolean", default: false },
    force: { type: "boolean", default: false },
  },
  positionals: true,
  async run({ values, positionals, env, io, services }) {
    const [action = "list", order, ...extra] = positionals;
    if (!isAction(action)) throw new UsageError(`Unknown command "${action}".`);
    if (extra.length > 0) throw new UsageError(`Unexpected arguments: ${extra.join(" ")}`);
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new UsageError("--limit must be 1 to 1000.");
    if (action === "list" || action === "index") {
      if (order !== undefined) throw new UsageError(`${action} takes no order.`);
      return action === "list"
        ? list(services(), limit, values.json, io)
        : index(services(), values.json, io);
    }
    if (order === undefined || (!SESSION_ID.test(order) && !normalizeOrderNumber(order)))
      throw new UsageError(
        `${action} needs an order number (e.g. 7KQ4-M9PX) or a Checkout Session id (cs_test_...).`,
      );
    // Decided before any request: without a terminal, a live resend or retry needs --live.
    const consent = requireConsent(
      io,
      (action === "resend" || action === "retry") && isLiveKey(env.STRIPE_SECRET_KEY)
        ? [liveRule(values.live, "emails a real customer")]
        : [],
      { action: `${action} an order` },
    );
    const deps = services();
    const sessionId = await findSession(deps, order);
    if (action === "show") return show(deps, sessionId, values.json, io);
    if (action === "reset-downloads") return resetDownloads(deps, sessionId, io);
    return send(action, sessionId, deps, { consent, force: values.force, json: values.json }, io);
  },
});

/** `npm run orders` as a function (tests pass fake services as `build`). */
export const runOrders = commandFunction(ordersCommand);

/** States of an order the customer's page shows: it was paid and recorded. */
const INDEXED_STATES: readonly LedgerRecord["state"][] = ["fulfilling", "fulfilled", "refunded", "disputed"];

/**
 * Files every recorded order of the account's complete sessions under its customer's keyed hash: one Stripe list call
 * per 100 sessions, one ledger read and one index write per order. Safe to run again (an order is filed once).
 */
async function index(deps: Services, json: boolean, io: Io): Promise<number> {
  const secret = deps.downloadSecret;
  if (!secret)
    throw new CliError(
      "LINKSHOP_DOWNLOAD_SECRET is not set: it keys the customer index (see the README's Configuration).",
    );
  const counts = { sessions: 0, indexed: 0, notRecorded: 0, skipped: 0 };
  let cursor: string | undefined;
  do {
    const page = await deps.sessions.listComplete(0, cursor);
    for (const session of page.sessions) {
      counts.sessions++;
      const email = customerEmailOf(session);
      if (!inScope(session, deps.scope) || sessionProblem(session) || !email) {
        counts.skipped++;
        continue;
      }
      const key = sessionKey(session.id);
      const record = await deps.ledger.get(key);
      if (!record || !INDEXED_STATES.includes(record.state)) {
        counts.notRecorded++;
        continue;
      }
      await deps.customers.add(customerHash(email, secret), key, record.createdAt);
      counts.indexed++;
    }
    cursor = page.nextCursor;
  } while (cursor);
  if (json) io.out(JSON.stringify(counts));
  else
    io.out(
      `${counts.indexed} order${counts.indexed === 1 ? "" : "s"} findable by their customers' addresses ` +
        `(${counts.sessions} complete sessions: ${counts.notRecorded} not recorded as paid orders, ` +
        `${counts.skipped} not this shop's or without a usable address).`,
    );
  return EXIT.ok;
}

/** The Checkout Session id of `order` (an id, or an order number looked up in the ledger). */
async function findSession(deps: Services, order: string): Promise<string> {
  if (SESSION_ID.test(order)) return order;
  const found = await findByOrderNumber(deps, normalizeOrderNumber(order) ?? "");
  if (!found) throw new CliError(`No order ${order} in the ledger.`);
  return found;
}

/** Transfers per file id of each order that has files (one store request per such order). */
async function downloadCounts(deps: Services, rows: { key: string; record: LedgerRecord }[]) {
  const counts = new Map<string, Record<string, number>>();
  for (const { key, record } of rows)
    if ((record.files?.length ?? 0) > 0) counts.set(key, await deps.downloads.all(key));
  return counts;
}

/** `trail-maps.pdf 2/5, extras.zip 0/5`: each file's downloads against the shop's limit. */
function downloadsLine(
  record: LedgerRecord,
  counts: Record<string, number> | undefined,
  limit: number,
): string {
  return (record.files ?? []).map((file) => `${file.name} ${counts?.[file.id] ?? 0}/${limit}`).join(", ");
}

async function list(deps: Services, limit: number, json: boolean, io: Io): Promise<number> {
  const rows = await deps.ledger.list({ limit });
  const counts = await downloadCounts(deps, rows);
  const mail = await deps.queue.status();
  if (!json) {
    const line = queueLine(mail, deps.now());
    if (line) io.out(line);
    printTable(rows, counts, deps.shop.downloads.limit, io);
  } else {
    const orders = rows.map(({ key, record }) => ({
      key,
      orderNumber: record.sessionId ? orderNumber(record.sessionId) : null,
      ...record,
      ...(counts.has(key) && { downloads: counts.get(key) }),
    }));
    io.out(JSON.stringify(orders, null, 2));
  }
  return EXIT.ok;
}

/** What waits in the mail queue, for the top of the list; undefined when nothing does. */
export function queueLine(status: MailQueueStatus, now: number): string | undefined {
  if (status.waiting === 0) return undefined;
  const minutes = status.oldestQueuedAt === null ? 0 : Math.floor((now - status.oldestQueuedAt) / 60_000);
  const waiting = `Mail queue: ${status.waiting} email${status.waiting === 1 ? "" : "s"} waiting (the oldest for ${minutes} min)`;
  return status.pausedUntil === null
    ? `${waiting}; orders marked "queued" are paid and wait for them.`
    : `${waiting}; paused until ${new Date(status.pausedUntil).toISOString()} (Resend's daily quota is spent): orders marked "queued" get their emails then.`;
}

async function show(deps: Services, sessionId: string, json: boolean, io: Io): Promise<number> {
  const record = await deps.ledger.get(sessionId);
  if (!record) throw new CliError(`No ledger record for ${sessionId}.`);
  const counts = (await downloadCounts(deps, [{ key: sessionId, record }])).get(sessionId);
  io.out(
    json
      ? JSON.stringify(
          { orderNumber: orderNumber(sessionId), ...record, ...(counts && { downloads: counts }) },
          null,
          2,
        )
      : describe(record, counts, deps.shop.downloads.limit),
  );
  return EXIT.ok;
}

/** Forgets the order's download counts, so each file can be downloaded `downloads.limit` times again. */
async function resetDownloads(deps: Services, sessionId: string, io: Io): Promise<number> {
  const record = await deps.ledger.get(sessionId);
  if (!record) throw new CliError(`No ledger record for ${sessionId}.`);
  if ((record.files?.length ?? 0) === 0) throw new CliError(`Order ${orderNumber(sessionId)} has no files.`);
  if (record.state !== "fulfilled")
    throw new CliError(
      `Order ${orderNumber(sessionId)} is ${record.state}: its files are not available, so there is nothing to reset.`,
    );
  const before = await deps.downloads.all(sessionId);
  await deps.downloads.reset(sessionId);
  io.out(
    `Reset the downloads of order ${orderNumber(sessionId)}: ${downloadsLine(record, before, deps.shop.downloads.limit)} -> 0 each.`,
  );
  return EXIT.ok;
}

/** Resends the receipt or retries the order, once the session is paid, this shop's, and the merchant agreed. */
async function send(
  action: SendAction,
  sessionId: string,
  deps: Services,
  options: { consent: Consent; force: boolean; json: boolean },
  io: Io,
): Promise<number> {
  const session = await deps.sessions.retrieve(sessionId);
  if (!session) throw new CliError(`Stripe does not know ${sessionId}.`);
  if (session.payment_status !== "paid" && session.payment_status !== "no_payment_required") {
    throw new CliError(
      `${sessionId} is not paid (payment_status ${session.payment_status ?? "unknown"}): nothing to send.`,
    );
  }
  // The same rule as the webhook, the thank-you page and reconciliation: another shop's sessions are not ours.
  if (!inScope(session, deps.scope)) {
    throw new CliError(
      `${sessionId} is not one of this shop's orders (LINKSHOP_FULFIL_SESSIONS=${deps.scope}): nothing was sent. ` +
        'See "Which sessions are fulfilled" in the README.',
    );
  }
  const record = await deps.ledger.get(sessionKey(sessionId));
  if (action === "resend" && !options.force) refuseRecentResend(record, deps);
  // A retry of a fulfilled order sends nothing (it answers "duplicate"): nothing to confirm.
  if (action === "resend" || record?.state !== "fulfilled")
    await options.consent.confirm(proposal(action, session, record, deps));
  const result = action === "resend" ? await resendReceipt(session, deps) : await retryOrder(session, deps);
  // The email went into the mail queue: send it now, through the same paced path as every other email.
  const queued = result.outcome === "queued" || result.reason === "receipt_resent";
  const mail = queued ? await drainMail(deps.drain, COMMAND_DRAIN_MS) : undefined;
  io.out(
    options.json
      ? JSON.stringify({ ...result, ...(mail && { mail }) })
      : `${action} ${sessionId}: ${result.outcome} (${result.reason})${mail ? `; ${mailLine(mail)}` : ""}`,
  );
  return result.outcome === "failed" ? EXIT.failed : EXIT.ok;
}

/** Throws when the receipt was resent within RESEND_WINDOW_MS. */
function refuseRecentResend(record: LedgerRecord | undefined, deps: Services): void {
  const last = record?.lastResentAt;
  if (last === undefined || deps.now() - last >= RESEND_WINDOW_MS) return;
  const minutes = Math.max(0, Math.floor((deps.now() - last) / 60_000));
  const at = new Date(last).toISOString().slice(0, 16).replace("T", " ");
  throw new CliError(
    `The receipt of order ${record?.sessionId ? orderNumber(record.sessionId) : "?"} was last resent at ${at} UTC ` +
      `(${minutes} min ago), so it was not sent again. Pass --force to send another copy anyway.`,
  );
}

/** What a resend or retry will send, and to whom (masked): a retry sends only what was not accepted before. */
function proposal(
  action: SendAction,
  session: SessionPayload,
  record: LedgerRecord | undefined,
  deps: Services,
): Proposal {
  const order = `order ${orderNumber(session.id)} (${session.id})`;
  const customer = maskEmail(customerEmailOf(session)) ?? "no customer address";
  if (action === "resend") return { summary: `Resend the receipt of ${order} to ${customer}.` };
  const details = [
    ...(record?.emails.receipt === undefined ? [`receipt to ${customer}`] : []),
    ...(deps.merchantEmail && record?.emails.notice === undefined
      ? [`notice to ${maskEmail(deps.merchantEmail)}`]
      : []),
  ];
  return { summary: `Retry ${order}: send what was not accepted before.`, details };
}

function formatRefund(record: LedgerRecord): string {
  const refund = record.refund;
  if (!refund || record.currency === null) return "-";
  const amount = (value: number) => formatMoney(value, record.currency ?? "usd");
  return `${amount(refund.amountRefunded)} of ${amount(refund.amount)}${refund.full ? " (full)" : " (partial)"}`;
}

function total(record: LedgerRecord): string {
  return record.amount !== null && record.currency !== null
    ? formatMoney(record.amount, record.currency)
    : "-";
}

function printTable(
  rows: { key: string; record: LedgerRecord }[],
  counts: Map<string, Record<string, number>>,
  limit: number,
  io: Io,
): void {
  if (rows.length === 0) {
    io.out("No orders in the ledger yet.");
    return;
  }
  const lines = [
    ["Created (UTC)", "Order", "State", "Total", "Items", "Downloads", "Session", "Reason"],
    ...rows.map(({ key, record }) => [
      new Date(record.createdAt).toISOString().slice(0, 19).replace("T", " "),
      record.sessionId ? orderNumber(record.sessionId) : "-",
      record.state,
      total(record),
      String(record.items.reduce((sum, item) => sum + item.quantity, 0)),
      downloadsLine(record, counts.get(key), limit) || "-",
      record.sessionId ?? `(key ${key.slice(0, 12)}...)`,
      record.reason ?? "",
    ]),
  ];
  const widths = lines[0]?.map((_, i) => Math.max(...lines.map((line) => (line[i] ?? "").length))) ?? [];
  for (const line of lines)
    io.out(
      line
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    );
}

function describe(record: LedgerRecord, counts: Record<string, number> | undefined, limit: number): string {
  const time = (ms: number | null | undefined) =>
    ms === null || ms === undefined ? "-" : new Date(ms).toISOString();
  return [
    `Order      ${record.sessionId ? orderNumber(record.sessionId) : "-"}`,
    `Session    ${record.sessionId ?? "(no usable id)"}`,
    `State      ${record.state}${record.reason ? ` (${record.reason})` : ""}`,
    `Total      ${total(record)}${record.livemode ? "" : " (test mode)"}`,
    `Items      ${record.items.map((item) => `${item.quantity} x ${item.name}`).join(", ") || "-"}`,
    `Customer   ${record.maskedEmail ?? "-"}`,
    `Downloads  ${downloadsLine(record, counts, limit) || "-"}`,
    ...(record.refund
      ? [
          `Refund     ${formatRefund(record)}${record.refund.revoked ? ", downloads cut" : ", downloads kept"}`,
        ]
      : []),
    ...(record.dispute
      ? [`Dispute    ${record.dispute.id}: ${record.dispute.status} (${record.dispute.reason})`]
      : []),
    `Created    ${time(record.createdAt)}`,
    `Updated    ${time(record.updatedAt)} by ${record.by}`,
    `Fulfilled  ${time(record.fulfilledAt)}`,
    `Resent     ${time(record.lastResentAt)}`,
    `Attempts   ${record.attempts}`,
    `Emails     ${
      Object.entries(record.emails)
        .map(([slot, id]) => `${slot}: ${Array.isArray(id) ? id.join(", ") : id}`)
        .join("; ") || "-"
    }`,
  ].join("\n");
}

/** Ledger pages scanned for an order number, newest first: 20 pages of 500 orders. */
const LOOKUP_PAGES = 20;
const LOOKUP_PAGE_SIZE = 500;

/** The Checkout Session whose order number this is, from the ledger (the number is a hash: it cannot be reversed). */
async function findByOrderNumber(deps: Services, number: string): Promise<string | undefined> {
  let before: number | undefined;
  for (let page = 0; page < LOOKUP_PAGES; page++) {
    const rows = await deps.ledger.list({ limit: LOOKUP_PAGE_SIZE, ...(before !== undefined && { before }) });
    const hit = rows.find(({ record }) => record.sessionId && orderNumber(record.sessionId) === number);
    if (hit?.record.sessionId) return hit.record.sessionId;
    const last = rows.at(-1);
    if (rows.length < LOOKUP_PAGE_SIZE || !last) return undefined;
    // `before` is inclusive; step past the last page's oldest time so the scan always advances.
    before = last.record.createdAt - 1;
  }
  return undefined;
}
