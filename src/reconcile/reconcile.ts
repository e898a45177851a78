/**
 * Reconciliation: lists this shop's complete Checkout Sessions on Stripe for a window and fulfils every paid one
 * that is not fulfilled yet, under the same claims and ledger as the webhook. Each run stops at a time budget and
 * leaves a cursor, so the next run resumes where this one stopped.
 */
import { InProgressError, UpstreamError } from "../lib/errors.ts";
import { type FulfilmentDeps, fulfilOrder } from "../fulfilment/fulfil.ts";
import type { ValueStore } from "../fulfilment/ports.ts";
import { fulfilledOnStripe, inScope, sessionKey } from "../order/session.ts";
import type { SessionPayload } from "../order/model.ts";

/** Fulfilment deps plus where the cursor lives. */
export interface ReconcileDeps extends FulfilmentDeps {
  values: ValueStore;
}

/** Default window: Stripe retries a webhook for 3 days; a week covers that and a long outage. Seconds. */
export const DEFAULT_WINDOW_SECONDS = 7 * 24 * 60 * 60;
/** Work per run, well inside Netlify's 30 s limit for scheduled functions. Milliseconds. */
export const DEFAULT_BUDGET_MS = 20_000;
/** An unfinished run's cursor outlives the hourly schedule by a margin. Seconds. */
export const CURSOR_TTL_SECONDS = 3 * 60 * 60;
const CURSOR_KEY = "reconcile:cursor";

export interface ReconcileOptions {
  /** Oldest creation time to look at, unix seconds. Default: now minus DEFAULT_WINDOW_SECONDS. */
  since?: number;
  /** Report what would be fulfilled; send and write nothing. */
  dryRun?: boolean;
  budgetMs?: number;
}

/** What one run did. Counts of sessions; ids only for the dry run's list. */
export interface ReconcileSummary {
  since: number;
  resumed: boolean;
  /** True when the whole window was looked at; false when the budget ran out (the cursor is kept). */
  complete: boolean;
  listed: number;
  fulfilled: number;
  alreadyFulfilled: number;
  /** Refunded or disputed: never fulfilled again. */
  refundedOrDisputed: number;
  failed: number;
  notOurs: number;
  unpaid: number;
  inProgress: number;
  errors: number;
  /** Sessions a dry run would fulfil. */
  wouldFulfil: string[];
  durationMs: number;
}

interface Cursor {
  since: number;
  after: string | undefined;
}

/** Runs one bounded pass and writes one summary log line. Throws only when Redis or Stripe cannot be used at all. */
export async function reconcile(
  deps: ReconcileDeps,
  options: ReconcileOptions = {},
): Promise<ReconcileSummary> {
  const started = deps.now();
  const budgetMs = options.budgetMs ?? DEFAULT_BUDGET_MS;
  const dryRun = options.dryRun ?? false;
  const saved = options.since === undefined && !dryRun ? await readCursor(deps.values) : undefined;
  const cursor: Cursor = saved ?? {
    since: options.since ?? Math.floor(started / 1000) - DEFAULT_WINDOW_SECONDS,
    after: undefined,
  };
  const summary: ReconcileSummary = {
    since: cursor.since,
    resumed: saved !== undefined,
    complete: false,
    listed: 0,
    fulfilled: 0,
    alreadyFulfilled: 0,
    refundedOrDisputed: 0,
    failed: 0,
    notOurs: 0,
    unpaid: 0,
    inProgress: 0,
    errors: 0,
    wouldFulfil: [],
    durationMs: 0,
  };
  const outOfTime = () => deps.now() - started >= budgetMs;
  try {
    pages: for (;;) {
      const page = await deps.sessions.listComplete(cursor.since, cursor.after);
      for (const session of page.sessions) {
        if (outOfTime()) break pages;
        await visit(session, deps, dryRun, summary);
        cursor.after = session.id;
      }
      if (!page.nextCursor) {
        summary.complete = true;
        break;
      }
      cursor.after = page.nextCursor;
      if (outOfTime()) break;
    }
    if (!dryRun) {
      if (summary.complete) await deps.values.delete(CURSOR_KEY);
      else await deps.values.set(CURSOR_KEY, JSON.stringify(cursor), CURSOR_TTL_SECONDS);
    }
  } finally {
    summary.durationMs = deps.now() - started;
    const { wouldFulfil, ...counts } = summary;
    deps.log("reconcile.run", { ...counts, dryRun, wouldFulfil: wouldFulfil.length });
  }
  return summary;
}

async function visit(
  session: SessionPayload,
  deps: ReconcileDeps,
  dryRun: boolean,
  summary: ReconcileSummary,
): Promise<void> {
  summary.listed++;
  if (session.mode === "setup" || !inScope(session, deps.scope)) {
    summary.notOurs++;
    return;
  }
  if (session.payment_status !== "paid" && session.payment_status !== "no_payment_required") {
    summary.unpaid++;
    return;
  }
  // Stripe's copy of "fulfilled" came with the list call: no Redis command, no email.
  if (fulfilledOnStripe(session) !== undefined) {
    summary.alreadyFulfilled++;
    return;
  }
  const record = await deps.ledger.get(sessionKey(session.id));
  if (record?.state === "fulfilled") {
    summary.alreadyFulfilled++;
    // The ledger knows, Stripe does not yet (its update failed after the emails): write the second copy now.
    if (!dryRun && record.fulfilledAt !== null) {
      await deps.sessions.markFulfilled(session.id, new Date(record.fulfilledAt)).catch(() => {
        summary.errors++;
      });
    }
    return;
  }
  if (record?.state === "failed") {
    summary.failed++;
    return;
  }
  if (record?.state === "refunded" || record?.state === "disputed") {
    summary.refundedOrDisputed++;
    return;
  }
  if (dryRun) {
    summary.wouldFulfil.push(session.id);
    return;
  }
  try {
    // Listed just now: its metadata is current.
    const result = await fulfilOrder(session, deps, { by: "reconcile", fresh: true });
    // Queued counts as fulfilled here: the order's emails are in the mail queue, which sends them next.
    if (result.outcome === "fulfilled" || result.outcome === "queued") summary.fulfilled++;
    else if (result.outcome === "duplicate") summary.alreadyFulfilled++;
    else if (result.outcome === "failed") summary.failed++;
  } catch (error) {
    if (error instanceof InProgressError) summary.inProgress++;
    else if (error instanceof UpstreamError) summary.errors++;
    // Redis is down (StoreUnavailableError) or something unexpected: nothing else can succeed in this run.
    else throw error;
  }
}

async function readCursor(values: ValueStore): Promise<Cursor | undefined> {
  const raw = await values.get(CURSOR_KEY);
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(raw) as Partial<Cursor>;
    if (typeof parsed.since !== "number") return undefined;
    return { since: parsed.since, after: typeof parsed.after === "string" ? parsed.after : undefined };
  } catch {
    return undefined;
  }
}
