/**
 * Every email the shop sends leaves through the mail queue: paths that send put emails in it (an order's receipt and
 * notice in the same atomic write as its record), and a drainer sends them in batches, one drainer at a time, with
 * requests spaced by a budget every invocation shares. A burst of orders becomes a few batch requests; a refusal of
 * the provider's rate limit or daily quota makes the queue wait, never a webhook fail.
 */
import { renderFailureAlert } from "../email/templates.ts";
import { InProgressError } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import type { LedgerRecord, OrderState } from "../order/ledger.ts";
import { emailKey } from "../order/session.ts";
import type { ShopInfo } from "../shop/info.ts";
import type {
  BatchOutcome,
  BatchSender,
  Ledger,
  MailJob,
  MailQueue,
  Mailer,
  SessionSource,
} from "./ports.ts";
import { updateRecord } from "./records.ts";

/** The most emails Resend takes in one batch request. */
export const BATCH_MAX = 100;
/**
 * How long a drainer holds a batch before another may take it again (the same batch, under the same idempotency
 * key): longer than one request may take. Milliseconds.
 */
export const LEASE_MS = 30_000;
/**
 * Resend keeps an idempotency key for 24 hours; past this age (with an hour's margin) a key may no longer protect a
 * retry. Milliseconds.
 */
export const IDEMPOTENCY_WINDOW_MS = 23 * 60 * 60 * 1000;
/** The most take-and-send rounds of one drain (each waits at least the request spacing, or sends a batch). */
const MAX_DRAIN_ROUNDS = 1_000;
/** Waits before the next attempt of a batch that failed (5xx, network), by attempt; the last one repeats. Milliseconds. */
export const RETRY_DELAYS_MS = [2_000, 5_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000];
/** When the provider names no time, a spent daily quota is checked again after this long. Milliseconds. */
export const QUOTA_RECHECK_MS = 60 * 60 * 1000;

/** How long a merchant's command waits for its emails to leave (the queue may hold a burst's). Milliseconds. */
export const COMMAND_DRAIN_MS = 60_000;

/** One line for a merchant: what a drain sent, and why it stopped when something still waits. */
export function mailLine(summary: DrainSummary): string {
  const sent = `${summary.sent} email${summary.sent === 1 ? "" : "s"} sent`;
  const why: Record<DrainSummary["stopped"], string> = {
    empty: "",
    busy: ", the rest is being sent by a running drain",
    paused: ", the rest waits: the email provider's daily quota is spent (npm run doctor)",
    deadline: ", the rest waits for the next drain (every minute)",
    retry_later: ", the rest waits: the email provider failed, the drain tries again shortly",
  };
  return sent + why[summary.stopped];
}

/** What draining needs, injected. */
export interface DrainDeps {
  queue: MailQueue;
  /** An order whose record changed while its batch was out is read and written again here. */
  ledger: Pick<Ledger, "get" | "put">;
  sender: BatchSender;
  /** Stripe's copy of "fulfilled" is written for each order the drain completes. */
  sessions: Pick<SessionSource, "markFulfilled">;
  /** Receives an alert for an order whose email was refused for good. */
  merchantEmail: string | undefined;
  shop: ShopInfo;
  /** At least this long between two requests to the provider, across all invocations. Milliseconds. */
  spacingMs: number;
  now: () => number;
  /** Waits `ms`; injectable so tests need no real sleeps. */
  wait: (ms: number) => Promise<void>;
  log: Logger;
}

/** What one drain did. */
export interface DrainSummary {
  /** Batch requests made. */
  requests: number;
  /** Emails the provider accepted. */
  sent: number;
  /** Orders whose last email was accepted: now fulfilled. */
  fulfilled: number;
  /** Orders recorded as failed (an email refused for good, or too old to send again safely). */
  failed: number;
  /** Why it stopped: nothing left, another drainer at work, sending paused, out of time, or a failure to retry later. */
  stopped: "empty" | "busy" | "paused" | "deadline" | "retry_later";
}

/** A Mailer that queues: the email leaves with the next drain, at most once for its idempotency key. */
export function queueMailer(queue: MailQueue, now: () => number): Mailer {
  return {
    async send(email, idempotencyKey) {
      await queue.enqueue([{ id: idempotencyKey, email, queuedAt: now() }]);
      return { id: "queued" };
    },
  };
}

/**
 * Sends what waits, batch after batch, until the queue is empty, another drainer holds it, sending is paused, or
 * `budgetMs` is spent (the caller's time limit, minus a margin for the last request). Throws StoreUnavailableError
 * when the store fails; the batch in flight is then taken again after its lease.
 */
export async function drainMail(deps: DrainDeps, budgetMs: number): Promise<DrainSummary> {
  const deadline = deps.now() + budgetMs;
  const summary: DrainSummary = { requests: 0, sent: 0, fulfilled: 0, failed: 0, stopped: "empty" };
  // Far more rounds than a drain's time allows; a clock that stands still cannot keep it waiting for ever.
  for (let round = 0; round < MAX_DRAIN_ROUNDS; round++) {
    const now = deps.now();
    if (now >= deadline) return { ...summary, stopped: "deadline" };
    const take = await deps.queue.take({
      now,
      leaseMs: LEASE_MS,
      max: BATCH_MAX,
      spacingMs: deps.spacingMs,
      batchId: crypto.randomUUID(),
    });
    if (take.kind === "empty" || take.kind === "busy" || take.kind === "paused")
      return { ...summary, stopped: take.kind };
    if (take.kind === "wait") {
      if (take.until >= deadline) return { ...summary, stopped: "deadline" };
      await deps.wait(take.until - now);
      continue;
    }
    const { id, records } = take;
    // The emails of an order refunded or disputed while they waited are not sent. Only while no attempt of the
    // batch can have been accepted: its key then still names nothing, so the batch may change.
    const withheld = take.uncertainSince === null ? take.jobs.filter((job) => withholds(job, records)) : [];
    const jobs = take.jobs.filter((job) => !withheld.includes(job));
    if (take.uncertainSince !== null && now - take.uncertainSince > IDEMPOTENCY_WINDOW_MS) {
      // Perhaps sent a day ago, perhaps not: its key no longer protects a second send. The merchant decides.
      const refusedAll = jobs.map((_, index) => ({ index, reason: "outcome_unknown_key_expired" }));
      await settle(deps, id, jobs, records, { kind: "sent", ids: [], refused: refusedAll }, summary);
      continue;
    }
    if (jobs.length === 0) {
      await settle(deps, id, [], records, { kind: "sent", ids: [], refused: [] }, summary, withheld);
      continue;
    }
    summary.requests++;
    const outcome = await deps.sender.sendBatch(
      jobs.map(({ id, email }) => ({ id, email })),
      `linkshop-batch-${id}`,
    );
    deps.log("mail.batch", {
      batchId: id,
      emails: jobs.length,
      attempt: take.attempts,
      outcome: outcome.kind,
      reason: "reason" in outcome ? outcome.reason : undefined,
    });
    switch (outcome.kind) {
      case "sent":
        summary.sent += outcome.ids.length - outcome.refused.length;
        await settle(deps, id, jobs, records, outcome, summary, withheld);
        continue;
      case "refused":
        await settle(
          deps,
          id,
          jobs,
          records,
          { kind: "sent", ids: [], refused: jobs.map((_, index) => ({ index, reason: outcome.reason })) },
          summary,
          withheld,
        );
        continue;
      case "rate_limited": {
        // Someone else spends the same budget (another app on the account): wait, then the same batch again.
        const at = deps.now() + outcome.retryAfterMs;
        await deps.queue.retryLater(id, at);
        if (at >= deadline) return { ...summary, stopped: "deadline" };
        continue;
      }
      case "quota": {
        const until = deps.now() + (outcome.retryAfterMs ?? QUOTA_RECHECK_MS);
        await deps.queue.retryLater(id, until, { pause: true });
        deps.log("mail.paused", { level: "warn", until: new Date(until).toISOString() });
        return { ...summary, stopped: "paused" };
      }
      case "failed": {
        // A blip is retried within the same drain; a longer outage waits for the scheduled drain. Never a tight loop.
        const delay =
          RETRY_DELAYS_MS[Math.min(take.attempts, RETRY_DELAYS_MS.length) - 1] ?? QUOTA_RECHECK_MS;
        const at = deps.now() + delay;
        // No answer: Resend may have taken it. Sent again under the same key within a day, it sends nothing twice.
        await deps.queue.retryLater(id, at, { uncertainAt: deps.now() });
        if (at >= deadline) return { ...summary, stopped: "retry_later" };
        continue;
      }
    }
  }
  return { ...summary, stopped: "deadline" };
}

/**
 * What became of one email of an order: accepted (with its id, when the provider gave one), refused, or withheld
 * (not sent: the order was refunded or disputed while it waited).
 */
type EmailAnswer = { slot: string; id: string | undefined; refused: string | undefined; withheld?: true };

/** Whether a waiting email is not to be sent: its order was refunded or disputed while it waited. */
function withholds(job: MailJob, records: Record<string, LedgerRecord>): boolean {
  const state = job.order && records[job.order.key]?.state;
  return state === "refunded" || state === "disputed";
}

/**
 * Ends a batch the provider answered: records each accepted email on its order (fulfilled once nothing of it waits),
 * records refused ones as failures with an alert to the merchant, then writes Stripe's copy of "fulfilled". An order
 * whose record changed while the batch was out (a refund, a dispute, a merchant's retry) is read again and the same
 * answers applied to it as it is now, so an accepted email is always recorded and never sent again.
 */
async function settle(
  deps: DrainDeps,
  batchId: string,
  jobs: MailJob[],
  records: Record<string, LedgerRecord>,
  outcome: Extract<BatchOutcome, { kind: "sent" }>,
  summary: DrainSummary,
  withheld: MailJob[] = [],
): Promise<void> {
  const now = deps.now();
  const refused = new Map(outcome.refused.map(({ index, reason }) => [index, reason]));
  const answers = new Map<string, EmailAnswer[]>();
  jobs.forEach((job, index) => {
    const reason = refused.get(index);
    if (!job.order) {
      if (reason) deps.log("mail.refused", { level: "error", emailId: job.id, reason });
      return;
    }
    const { key, slot } = job.order;
    answers.set(key, [...(answers.get(key) ?? []), { slot, id: outcome.ids[index], refused: reason }]);
  });
  for (const { order } of withheld) {
    if (!order) continue;
    const answer: EmailAnswer = { slot: order.slot, id: undefined, refused: undefined, withheld: true };
    answers.set(order.key, [...(answers.get(order.key) ?? []), answer]);
    deps.log("mail.withheld", { sessionId: records[order.key]?.sessionId, slot: order.slot });
  }
  const writes = [...answers].flatMap(([key, answered]) => {
    const stored = records[key];
    return stored ? [{ key, expected: stored.state, ...applyAnswers(deps, key, stored, answered, now) }] : [];
  });
  // Neither refused nor withheld emails are remembered as sent: a merchant's retry may queue them again.
  const refusedIds = [
    ...jobs.filter((_, index) => refused.has(index)).map((job) => job.id),
    ...withheld.map((job) => job.id),
  ];
  const written = await deps.queue.finish(
    batchId,
    writes.map(({ key, expected, record }) => ({ key, expected, record })),
    writes.flatMap(({ alert }) => alert ?? []),
    now,
    refusedIds,
  );
  // Another drainer took the batch again after its lease ran out, and settles it.
  if (!written) return;
  // Each order's state before and after this batch.
  const moves: { from: OrderState; record: LedgerRecord }[] = [];
  for (const [i, write] of writes.entries()) {
    const move = written[i]
      ? { from: write.expected, record: write.record }
      : await settleAgain(deps, write.key, answers.get(write.key) ?? [], now);
    if (move && move.from !== move.record.state) moves.push(move);
  }
  for (const { record } of moves.filter(({ record }) => record.state === "failed")) {
    summary.failed++;
    deps.log("order.failed", { level: "error", sessionId: record.sessionId, reason: record.reason });
  }
  for (const { record } of moves) {
    if (record.state !== "fulfilled") continue;
    summary.fulfilled++;
    if (!record.sessionId) continue;
    deps.log("order.fulfilled", { sessionId: record.sessionId });
    await markOnStripe(deps, record.sessionId, record.fulfilledAt ?? now);
  }
}

/**
 * Applies a batch's answers to an order's record as it is now (it changed since the batch was taken), with the
 * alert in the same write. Returns the state it found and the record written, or undefined when the record is gone
 * or kept changing.
 */
async function settleAgain(
  deps: DrainDeps,
  key: string,
  answered: EmailAnswer[],
  now: number,
): Promise<{ from: OrderState; record: LedgerRecord } | undefined> {
  try {
    return await updateRecord(deps.ledger, key, (current) => {
      const { record, alert } = applyAnswers(deps, key, current, answered, now);
      return { record, extra: alert && { jobs: [alert] } };
    });
  } catch (error) {
    if (!(error instanceof InProgressError)) throw error;
    deps.log("mail.settle_conflict", { level: "error", sessionId: key });
    return undefined;
  }
}

/**
 * An order's record once some of its emails were answered. Each leaves `queued`. An accepted one is recorded
 * whatever the order's state is now (a refund or a dispute may have come while it waited), so no path sends it
 * again; the last one of a sending order makes it fulfilled. The first refusal fails a sending order, with an alert
 * to the merchant; any other state, and the first reason, stand.
 */
function applyAnswers(
  deps: DrainDeps,
  key: string,
  record: LedgerRecord,
  answered: EmailAnswer[],
  now: number,
): { record: LedgerRecord; alert: MailJob | undefined } {
  let updated: LedgerRecord = { ...record, updatedAt: now };
  let alert: MailJob | undefined;
  for (const { slot, id, refused, withheld } of answered) {
    updated.queued = (updated.queued ?? []).filter((name) => name !== slot);
    if (withheld) continue;
    if (!refused) {
      updated.emails = { ...updated.emails, [slot]: id ?? "accepted" };
      continue;
    }
    if (updated.state !== "fulfilling") continue;
    updated = { ...updated, state: "failed", reason: `${slot}:${refused}` };
    if (deps.merchantEmail && updated.emails.alert === undefined) {
      alert = {
        id: emailKey("alert", `${key}-${updated.reason}`),
        email: {
          to: deps.merchantEmail,
          ...renderFailureAlert(
            { sessionId: record.sessionId, key, reason: updated.reason ?? refused },
            deps.shop,
          ),
        },
        queuedAt: now,
      };
      updated.emails = { ...updated.emails, alert: "queued" };
    }
  }
  if (updated.state === "fulfilling" && updated.queued?.length === 0)
    updated = { ...updated, state: "fulfilled", reason: null, fulfilledAt: now };
  return { record: updated, alert };
}

/** Stripe's copy of "fulfilled"; a failure is logged, and reconciliation writes it when it next sees the session. */
export async function markOnStripe(
  deps: { sessions: Pick<SessionSource, "markFulfilled">; log: Logger },
  sessionId: string,
  at: number,
): Promise<void> {
  try {
    await deps.sessions.markFulfilled(sessionId, new Date(at));
  } catch (error) {
    deps.log("order.stripe_mark_failed", {
      sessionId,
      reason: error instanceof Error && "reason" in error ? String(error.reason) : "unknown",
    });
  }
}
