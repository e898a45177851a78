/** `npm run reconcile`: one reconciliation pass from the command line, with the functions' configuration. */
import { parseArgs } from "node:util";
import { services } from "../services.ts";
import type { Io } from "./kit.ts";
import { commandServices } from "./config.ts";
import { readConfig } from "../config.ts";
import { reasonOf } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import {
  DEFAULT_BUDGET_MS,
  type ReconcileDeps,
  type ReconcileSummary,
  reconcile,
} from "../reconcile/reconcile.ts";

const USAGE = `Usage: npm run reconcile -- [options]

Lists this shop's complete Checkout Sessions on Stripe and fulfils every paid one the ledger does not have as
fulfilled (receipt and merchant notice, once). The hourly scheduled function runs the same pass.

Options:
  --since <when>   how far back: an ISO date (2026-03-01) or a duration (36h, 7d); default 7d
  --dry-run        list what would be fulfilled; send and write nothing
  --json           print the summary as JSON
  -h, --help       show this help

Configuration: the functions' variables, from .env, the running npm start stack, or the environment.`;

/** Parses `--since`: an ISO date or `<n>h` / `<n>d` before `now` (ms). Returns unix seconds. */
export function parseSince(value: string, now: number): number | undefined {
  const duration = /^(\d{1,4})([hd])$/.exec(value);
  if (duration) {
    const hours = Number(duration[1]) * (duration[2] === "d" ? 24 : 1);
    return Math.floor((now - hours * 3_600_000) / 1000);
  }
  const at = Date.parse(value);
  return /^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(at) ? Math.floor(at / 1000) : undefined;
}

/** Runs the command; returns the exit code. `build` wires services (tests pass fakes). */
export async function runReconcile(
  argv: string[],
  env: Record<string, string | undefined>,
  io: Io,
  build: (log: Logger) => ReconcileDeps = (log) => services(readConfig(env), log),
): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        since: { type: "string" },
        "dry-run": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (error) {
    io.err(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    io.out(USAGE);
    return 0;
  }
  // The summary log line goes to stderr, so --json output stays parseable.
  const deps = commandServices(build, io);
  if (!deps) return 1;
  const since = args.since === undefined ? undefined : parseSince(args.since, deps.now());
  if (args.since !== undefined && since === undefined) {
    io.err(`--since ${args.since}: use an ISO date (2026-03-01) or a duration (36h, 7d).`);
    return 2;
  }
  let summary: ReconcileSummary;
  try {
    // From a terminal there is no 30 s limit, but a bounded pass keeps the cursor logic the same.
    summary = await reconcile(deps, { since, dryRun: args["dry-run"], budgetMs: DEFAULT_BUDGET_MS * 6 });
  } catch (error) {
    io.err(`Reconciliation stopped: ${reasonOf(error, String(error))}`);
    return 1;
  }
  if (args.json) io.out(JSON.stringify(summary, null, 2));
  else {
    const from = new Date(summary.since * 1000).toISOString();
    io.out(
      `Since ${from}: ${summary.listed} sessions listed, ${summary.fulfilled} fulfilled now, ` +
        `${summary.alreadyFulfilled} already fulfilled, ${summary.failed} failed, ${summary.unpaid} unpaid, ` +
        `${summary.notOurs} not this shop's, ${summary.inProgress} in progress, ${summary.errors} errors.`,
    );
    if (args["dry-run"]) {
      io.out(summary.wouldFulfil.length ? "Would fulfil:" : "Nothing to fulfil.");
      for (const id of summary.wouldFulfil) io.out(`  ${id}`);
    }
    if (!summary.complete) io.out("Stopped at the time budget; run again to continue.");
  }
  return summary.errors > 0 ? 1 : 0;
}
