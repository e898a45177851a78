/** `npm run reconcile`: one reconciliation pass from the command line, with the functions' configuration. */
import { COMMAND_DRAIN_MS, drainMail, mailLine } from "../fulfilment/mail.ts";
import {
  type ConsentRule,
  commandFunction,
  defineCommand,
  EXIT,
  type Io,
  liveRule,
  MAX_SHOWN,
  type Proposal,
  requireConsent,
  UsageError,
} from "./kit.ts";
import { isLiveKey } from "../lib/stripe-keys.ts";
import { customerEmailOf } from "../order/model.ts";
import { orderNumber } from "../order/number.ts";
import { maskEmail } from "../order/session.ts";
import {
  DEFAULT_BUDGET_MS,
  DEFAULT_WINDOW_SECONDS,
  type ReconcileDeps,
  type ReconcileSummary,
  reconcile,
} from "../reconcile/reconcile.ts";

const WINDOW_DAYS = DEFAULT_WINDOW_SECONDS / 86_400;

const USAGE = `Usage: npm run reconcile -- [options]

Lists this shop's complete Checkout Sessions on Stripe and fulfils every paid one the ledger does not have as
fulfilled (receipt and merchant notice, once). The hourly scheduled function runs the same pass over the last
${WINDOW_DAYS} days.

Options:
  --since <when>   how far back: an ISO date (2026-03-01) or a duration (36h, 7d); default ${WINDOW_DAYS}d. Further back
                   than ${WINDOW_DAYS}d first shows what it would send and asks (or needs --yes without a terminal)
  --dry-run        list what would be fulfilled; send and write nothing
  --json           print the summary as JSON
  --live           with a live key: send without asking (on a terminal you are asked after seeing the orders;
                   without one, a live key needs --live)
  --yes            with --since further back than ${WINDOW_DAYS}d: send without asking
  -h, --help       show this help`;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Parses `--since`: an ISO date (midnight UTC), an ISO date and time with its zone, or `<n>h` / `<n>d` before `now`
 * (ms). Returns unix seconds, or undefined when it is none of these (or no real date, such as 2026-02-30).
 */
export function parseSince(value: string, now: number): number | undefined {
  const duration = /^(\d{1,4})([hd])$/.exec(value);
  if (duration) {
    const hours = Number(duration[1]) * (duration[2] === "d" ? 24 : 1);
    return Math.floor((now - hours * 3_600_000) / 1000);
  }
  if (DATE.test(value)) {
    const at = Date.parse(`${value}T00:00:00Z`);
    return !Number.isNaN(at) && new Date(at).toISOString().startsWith(value) ? at / 1000 : undefined;
  }
  const at = DATE_TIME.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.floor(at / 1000);
}

/** `npm run reconcile`. */
export const reconcileCommand = defineCommand({
  usage: USAGE,
  options: {
    since: { type: "string" },
    "dry-run": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    live: { type: "boolean", default: false },
    yes: { type: "boolean", default: false },
  },
  async run({ values, env, io, services }) {
    const deps = services();
    const now = deps.now();
    const since = values.since === undefined ? undefined : parseSince(values.since, now);
    if (values.since !== undefined && since === undefined)
      throw new UsageError(`--since ${values.since}: use an ISO date (2026-03-01) or a duration (36h, 7d).`);
    if (since !== undefined && since >= Math.floor(now / 1000))
      throw new UsageError(`--since ${values.since}: that is not in the past.`);
    const dryRun = values["dry-run"];
    const rules: ConsentRule[] = [];
    if (!dryRun && isLiveKey(env.STRIPE_SECRET_KEY))
      rules.push(liveRule(values.live, "emails real customers"));
    const days = since === undefined ? 0 : (now / 1000 - since) / 86_400;
    if (!dryRun && days > WINDOW_DAYS) {
      rules.push({
        reason: `--since reaches back ${Math.floor(days)} days, further than the hourly run's ${WINDOW_DAYS}: orders that old may get their first email only now`,
        flag: "--yes",
        given: values.yes,
      });
    }
    // Decided before any request: without a terminal, what needs a yes needs its flag.
    const consent = requireConsent(io, rules, { action: "reconcile", preview: "--dry-run" });
    // From a terminal there is no 30 s limit, but a bounded pass keeps the cursor logic the same.
    const pass = { since, budgetMs: DEFAULT_BUDGET_MS * 6 };
    if (consent.pending) {
      const preview = await reconcile(deps, { ...pass, dryRun: true });
      if (preview.wouldFulfil.length > 0) await consent.confirm(await proposal(preview, deps));
    }
    const summary = await reconcile(deps, { ...pass, dryRun });
    report(summary, dryRun, values.json, io);
    // What the pass queued (receipts, alerts) leaves now, paced like every other email.
    if (!dryRun) {
      const mail = await drainMail(deps.drain, COMMAND_DRAIN_MS);
      if (!values.json && (mail.sent > 0 || mail.stopped !== "empty")) io.out(mailLine(mail));
    }
    return summary.errors > 0 ? EXIT.failed : EXIT.ok;
  },
});

/** `npm run reconcile` as a function (tests pass fake services as `build`). */
export const runReconcile = commandFunction(reconcileCommand);

/** What a pass would send: the orders by number, with their (masked) customers for the first few. */
async function proposal(preview: ReconcileSummary, deps: ReconcileDeps): Promise<Proposal> {
  const ids = preview.wouldFulfil;
  const details = await Promise.all(
    ids.map(async (id, index) => {
      const line = `${orderNumber(id)}  ${id}`;
      if (index >= MAX_SHOWN) return line;
      const session = await deps.sessions.retrieve(id);
      return `${line}  receipt to ${maskEmail(session && customerEmailOf(session)) ?? "no customer address"}`;
    }),
  );
  const merchant = deps.merchantEmail ? `, and a notice to ${maskEmail(deps.merchantEmail)} for each` : "";
  const partial = preview.complete ? "" : " (in the part of the window looked at so far)";
  return {
    summary: `Fulfil ${ids.length} order(s)${partial}: a receipt to each customer${merchant}.`,
    details,
  };
}

function report(summary: ReconcileSummary, dryRun: boolean, json: boolean, io: Io): void {
  if (json) {
    io.out(JSON.stringify(summary, null, 2));
    return;
  }
  const from = new Date(summary.since * 1000).toISOString();
  io.out(
    `Since ${from}: ${summary.listed} sessions listed, ${summary.fulfilled} fulfilled now, ` +
      `${summary.alreadyFulfilled} already fulfilled, ${summary.refundedOrDisputed} refunded or disputed, ` +
      `${summary.failed} failed, ${summary.unpaid} unpaid, ` +
      `${summary.notOurs} not this shop's, ${summary.inProgress} in progress, ${summary.errors} errors.`,
  );
  if (dryRun) {
    io.out(summary.wouldFulfil.length ? "Would fulfil:" : "Nothing to fulfil.");
    for (const id of summary.wouldFulfil) io.out(`  ${id}`);
  }
  if (!summary.complete) io.out("Stopped at the time budget; run again to continue.");
}
