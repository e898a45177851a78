/** `npm run orders`: the merchant's view of the ledger, and deliberate resends and retries. */
import { parseArgs } from "node:util";
import { services } from "../services.ts";
import type { Io } from "./kit.ts";
import { commandServices } from "./config.ts";
import { readConfig } from "../config.ts";
import { reasonOf } from "../lib/errors.ts";
import { type ActionResult, resendReceipt, retryOrder } from "../fulfilment/fulfil.ts";
import type { LedgerRecord } from "../order/ledger.ts";
import { formatMoney } from "../lib/money.ts";
import type { Logger } from "../lib/log.ts";
import { SESSION_ID } from "../order/session.ts";
import { normalizeOrderNumber, orderNumber } from "../order/number.ts";
import type { ReconcileDeps } from "../reconcile/reconcile.ts";

const USAGE = `Usage: npm run orders -- [command] [options]

Commands:
  (none), list        recent orders and their state, newest first
  show <order>        one order's ledger record
  resend <order>      send a fulfilled order's receipt again, on purpose (recorded, with a fresh idempotency key)
  retry <order>       re-run a failed order (receipt and merchant notice not yet accepted)

<order> is the order number the receipt shows (e.g. 7KQ4-M9PX) or the Checkout Session id (cs_test_... or cs_live_...).

Options:
  --limit <n>    how many orders to list (default 50)
  --json         machine-readable output
  -h, --help     show this help

Configuration: the functions' variables, from .env, the running npm start stack, or the environment.`;

/** Runs the command; returns the exit code. `build` wires services (tests pass fakes). */
export async function runOrders(
  argv: string[],
  env: Record<string, string | undefined>,
  io: Io,
  build: (log: Logger) => ReconcileDeps = (log) => services(readConfig(env), log),
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        limit: { type: "string", default: "50" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    io.err(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  const { values: args, positionals } = parsed;
  if (args.help) {
    io.out(USAGE);
    return 0;
  }
  const [command = "list", given, ...extra] = positionals;
  let sessionId = given;
  const limit = Number(args.limit);
  const usage = (message: string) => {
    io.err(`${message}\n\n${USAGE}`);
    return 2;
  };
  if (!["list", "show", "resend", "retry"].includes(command)) return usage(`Unknown command "${command}".`);
  if (extra.length > 0) return usage(`Unexpected arguments: ${extra.join(" ")}`);
  if (command === "list" && sessionId !== undefined) return usage("list takes no session.");
  if (
    command !== "list" &&
    (sessionId === undefined || (!SESSION_ID.test(sessionId) && !normalizeOrderNumber(sessionId)))
  )
    return usage(`${command} needs an order number (e.g. 7KQ4-M9PX) or a Checkout Session id (cs_test_...).`);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return usage("--limit must be 1 to 1000.");

  const deps = commandServices(build, io);
  if (!deps) return 1;
  try {
    if (command !== "list" && !SESSION_ID.test(sessionId as string)) {
      const found = await findByOrderNumber(deps, normalizeOrderNumber(sessionId as string) ?? "");
      if (!found) {
        io.err(`No order ${sessionId} in the ledger.`);
        return 1;
      }
      sessionId = found;
    }
    switch (command) {
      case "list": {
        const rows = await deps.ledger.list({ limit });
        if (args.json)
          io.out(
            JSON.stringify(
              rows.map(({ key, record }) => ({
                key,
                orderNumber: record.sessionId ? orderNumber(record.sessionId) : null,
                ...record,
              })),
              null,
              2,
            ),
          );
        else printTable(rows, io);
        return 0;
      }
      case "show": {
        const record = await deps.ledger.get(sessionId as string);
        if (!record) {
          io.err(`No ledger record for ${sessionId}.`);
          return 1;
        }
        io.out(
          args.json
            ? JSON.stringify({ orderNumber: orderNumber(sessionId as string), ...record }, null, 2)
            : describe(record),
        );
        return 0;
      }
      default: {
        const session = await deps.sessions.retrieve(sessionId as string);
        if (!session) {
          io.err(`Stripe does not know ${sessionId}.`);
          return 1;
        }
        if (session.payment_status !== "paid" && session.payment_status !== "no_payment_required") {
          io.err(
            `${sessionId} is not paid (payment_status ${session.payment_status ?? "unknown"}): nothing to send.`,
          );
          return 1;
        }
        const result: ActionResult =
          command === "resend" ? await resendReceipt(session, deps) : await retryOrder(session, deps);
        if (args.json) io.out(JSON.stringify(result));
        else io.out(`${command} ${sessionId}: ${result.outcome} (${result.reason})`);
        return result.outcome === "failed" ? 1 : 0;
      }
    }
  } catch (error) {
    io.err(`${command} failed: ${reasonOf(error, String(error))}`);
    return 1;
  }
}

function total(record: LedgerRecord): string {
  return record.amount !== null && record.currency !== null
    ? formatMoney(record.amount, record.currency)
    : "-";
}

function printTable(rows: { key: string; record: LedgerRecord }[], io: Io): void {
  if (rows.length === 0) {
    io.out("No orders in the ledger yet.");
    return;
  }
  const lines = [
    ["Created (UTC)", "Order", "State", "Total", "Items", "Session", "Reason"],
    ...rows.map(({ key, record }) => [
      new Date(record.createdAt).toISOString().slice(0, 19).replace("T", " "),
      record.sessionId ? orderNumber(record.sessionId) : "-",
      record.state,
      total(record),
      String(record.items.reduce((sum, item) => sum + item.quantity, 0)),
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

function describe(record: LedgerRecord): string {
  const time = (ms: number | null) => (ms === null ? "-" : new Date(ms).toISOString());
  return [
    `Order      ${record.sessionId ? orderNumber(record.sessionId) : "-"}`,
    `Session    ${record.sessionId ?? "(no usable id)"}`,
    `State      ${record.state}${record.reason ? ` (${record.reason})` : ""}`,
    `Total      ${total(record)}${record.livemode ? "" : " (test mode)"}`,
    `Items      ${record.items.map((item) => `${item.quantity} x ${item.name}`).join(", ") || "-"}`,
    `Customer   ${record.maskedEmail ?? "-"}`,
    `Created    ${time(record.createdAt)}`,
    `Updated    ${time(record.updatedAt)} by ${record.by}`,
    `Fulfilled  ${time(record.fulfilledAt)}`,
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
async function findByOrderNumber(deps: ReconcileDeps, number: string): Promise<string | undefined> {
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
