/** In-memory test doubles for the fulfilment ports, with the same semantics as the real adapters. */
import { PermanentError, StoreUnavailableError, UpstreamError } from "../../src/lib/errors.ts";
import type { FulfilmentDeps } from "../../src/fulfilment/fulfil.ts";
import { type DrainDeps, drainMail, queueMailer } from "../../src/fulfilment/mail.ts";
import type { Services } from "../../src/app/services.ts";
import { createWebhookHandler } from "../../src/webhook/handler.ts";
import { webhookRequest } from "./stripe-payloads.ts";
import type { ShopInfo } from "../../src/shop/info.ts";
import type {
  BatchOutcome,
  BatchSender,
  MailJob,
  MailQueue,
  MailQueueStatus,
  MailTake,
  Claim,
  ClaimStore,
  CustomerOrders,
  DownloadCounter,
  Ledger,
  LedgerExtras,
  LineItemSource,
  OutgoingEmail,
  SessionPage,
  SessionSource,
} from "../../src/fulfilment/ports.ts";
import type { LogFields } from "../../src/lib/log.ts";
import { canTransition, type LedgerRecord, type OrderState } from "../../src/order/ledger.ts";
import { FULFILLED_MARKER, ORDER_NUMBER_KEY } from "../../src/order/metadata.ts";
import { orderNumber } from "../../src/order/number.ts";
import type { LineItemPayload, SessionPayload } from "../../src/order/model.ts";

/** A ClaimStore on a Map (TTL ignored); `down` makes every call fail like an unreachable Redis. */
export class MemoryClaimStore implements ClaimStore {
  readonly values = new Map<string, string>();
  down = false;
  async claim(key: string): Promise<Claim> {
    this.check();
    if (this.values.has(key)) return { state: "busy" };
    const token = crypto.randomUUID();
    this.values.set(key, token);
    return { state: "claimed", token };
  }
  async release(key: string, token: string): Promise<void> {
    this.check();
    if (this.values.get(key) === token) this.values.delete(key);
  }
  check() {
    if (this.down) throw new StoreUnavailableError("store is down");
  }
}

/** A Ledger on a Map with the adapter's compare-and-set rules; shares `down` with a claim store when given. */
export class MemoryLedger implements Ledger {
  readonly records = new Map<string, LedgerRecord>();
  /** The mail queue its writes queue into, as the Upstash ledger's script does. */
  readonly queue: MemoryMailQueue = new MemoryMailQueue(this);
  constructor(private readonly health: { check(): void } = { check() {} }) {}
  async get(key: string) {
    this.health.check();
    const record = this.records.get(key);
    return record && structuredClone(record);
  }
  /** Each customer's orders, as the Upstash script lists them. */
  readonly customers = new Map<string, Map<string, number>>();
  async put(key: string, expected: OrderState | "absent", record: LedgerRecord, extra: LedgerExtras = {}) {
    this.health.check();
    if (!this.write(key, expected, record)) return false;
    if (extra.customer) this.addCustomer(extra.customer, key, record.createdAt);
    this.queue.add(extra.jobs ?? []);
    return true;
  }
  /** The index as the CustomerOrders port reads and fills it. */
  readonly customerOrders: CustomerOrders = {
    list: async (customer, limit) =>
      [...(this.customers.get(customer) ?? new Map<string, number>())]
        .sort(([, a], [, b]) => b - a)
        .slice(0, limit)
        .map(([key]) => key),
    add: async (customer, key, createdAt) => this.addCustomer(customer, key, createdAt),
  };
  addCustomer(customer: string, key: string, createdAt: number) {
    const orders = this.customers.get(customer) ?? new Map<string, number>();
    orders.set(key, createdAt);
    this.customers.set(customer, orders);
  }
  /** The compare-and-set itself, synchronous (one Lua script). */
  write(key: string, expected: OrderState | "absent", record: LedgerRecord): boolean {
    const current = this.records.get(key)?.state ?? "absent";
    if (current !== expected) return false;
    if (!canTransition(current, record.state)) return false;
    this.records.set(key, structuredClone(record));
    return true;
  }
  check() {
    this.health.check();
  }
  async findByPaymentIntent(paymentIntent: string) {
    this.health.check();
    return [...this.records].find(([, record]) => record.paymentIntent === paymentIntent)?.[0];
  }
  async list({ limit, before }: { limit: number; before?: number }) {
    this.health.check();
    return [...this.records]
      .filter(([, record]) => before === undefined || record.createdAt <= before)
      .sort(([, a], [, b]) => b.createdAt - a.createdAt)
      .slice(0, limit)
      .map(([key, record]) => ({ key, record: structuredClone(record) }));
  }
}

/** The mail queue on Maps, with the Upstash script's rules: one batch in flight, a lease, spacing, a pause. */
export class MemoryMailQueue implements MailQueue {
  readonly pending = new Map<string, MailJob>();
  readonly sent = new Map<string, number>();
  batch:
    | {
        id: string;
        jobs: MailJob[];
        since: number;
        attempts: number;
        leaseUntil: number;
        notBefore: number;
        uncertainSince: number | null;
      }
    | undefined;
  lastSendAt = 0;
  pausedUntil = 0;
  constructor(private readonly ledger: MemoryLedger) {}
  add(jobs: MailJob[]) {
    for (const job of jobs) {
      const inFlight = this.batch?.jobs.some((queued) => queued.id === job.id);
      if (!this.sent.has(job.id) && !this.pending.has(job.id) && !inFlight)
        this.pending.set(job.id, structuredClone(job));
    }
  }
  async enqueue(jobs: MailJob[]) {
    this.ledger.check();
    this.add(jobs);
  }
  async take(o: {
    now: number;
    leaseMs: number;
    max: number;
    spacingMs: number;
    batchId: string;
  }): Promise<MailTake> {
    this.ledger.check();
    if (this.pausedUntil > o.now) return { kind: "paused", until: this.pausedUntil };
    if (this.batch) {
      if (this.batch.leaseUntil > o.now && this.batch.leaseUntil <= o.now + o.leaseMs)
        return { kind: "busy", until: this.batch.leaseUntil };
      if (this.batch.notBefore > o.now) return { kind: "wait", until: this.batch.notBefore };
      // As the script: a lease that ran out with no retry or finish leaves the batch's outcome unknown.
      if (this.batch.leaseUntil > 0) this.batch.uncertainSince ??= this.batch.leaseUntil - o.leaseMs;
    } else if (this.pending.size === 0) return { kind: "empty" };
    const nextAt = this.lastSendAt + o.spacingMs;
    if (nextAt > o.now && nextAt <= o.now + o.spacingMs) return { kind: "wait", until: nextAt };
    if (!this.batch) {
      const jobs = [...this.pending.values()].sort((a, b) => a.queuedAt - b.queuedAt).slice(0, o.max);
      for (const job of jobs) this.pending.delete(job.id);
      this.batch = {
        id: o.batchId,
        jobs,
        since: o.now,
        attempts: 0,
        leaseUntil: 0,
        notBefore: 0,
        uncertainSince: null,
      };
    }
    this.batch.attempts++;
    this.batch.leaseUntil = o.now + o.leaseMs;
    this.lastSendAt = o.now;
    const records: Record<string, LedgerRecord> = {};
    for (const job of this.batch.jobs) {
      const record = job.order && this.ledger.records.get(job.order.key);
      if (job.order && record) records[job.order.key] = structuredClone(record);
    }
    const { id, since, attempts, jobs, uncertainSince } = this.batch;
    return { kind: "batch", id, since, attempts, uncertainSince, jobs: structuredClone(jobs), records };
  }
  async finish(
    id: string,
    writes: { key: string; expected: OrderState; record: LedgerRecord }[],
    then: MailJob[],
    now: number,
    refused: string[] = [],
  ) {
    this.ledger.check();
    if (this.batch?.id !== id) return undefined;
    for (const job of this.batch.jobs) if (!refused.includes(job.id)) this.sent.set(job.id, now);
    this.batch = undefined;
    const results = writes.map(({ key, expected, record }) => this.ledger.write(key, expected, record));
    this.add(then);
    return results;
  }
  async retryLater(id: string, notBefore: number, options: { pause?: boolean; uncertainAt?: number } = {}) {
    this.ledger.check();
    if (this.batch?.id === id) {
      Object.assign(this.batch, { leaseUntil: 0, notBefore });
      this.batch.uncertainSince ??= options.uncertainAt ?? null;
    }
    if (options.pause) this.pausedUntil = notBefore;
  }
  async status(): Promise<MailQueueStatus> {
    this.ledger.check();
    const oldest = Math.min(...[...this.pending.values()].map((job) => job.queuedAt));
    return {
      waiting: this.pending.size + (this.batch?.jobs.length ?? 0),
      oldestQueuedAt: Number.isFinite(oldest) ? oldest : (this.batch?.since ?? null),
      pausedUntil: this.pausedUntil > 0 ? this.pausedUntil : null,
      inFlight: this.batch
        ? { attempts: this.batch.attempts, since: this.batch.since, notBefore: this.batch.notBefore }
        : null,
    };
  }
}

/**
 * Resend's batch endpoint, recorded: `failures`, `batchOutcomes` and `refuseNext` script the next requests. Honours
 * idempotency keys like Resend: the same key again sends nothing and answers the first ids.
 */
export class RecordingMailer implements BatchSender {
  readonly sent: (OutgoingEmail & { idempotencyKey: string; id: string })[] = [];
  readonly failures: (UpstreamError | PermanentError)[] = [];
  /** Every request, including repeats and failures. */
  requests = 0;
  /** Batch requests, each under one key; a failure queued in `failures` answers the whole batch. */
  batches = 0;
  /** Outcomes to answer the next batch requests with instead of sending (e.g. `{ kind: "quota" }`). */
  readonly batchOutcomes: BatchOutcome[] = [];
  /** Indexes refused one by one in the next batch. */
  refuseNext: { index: number; reason: string }[] = [];
  async sendBatch(
    emails: { id: string; email: OutgoingEmail }[],
    idempotencyKey: string,
  ): Promise<BatchOutcome> {
    this.batches++;
    this.requests++;
    const scripted = this.batchOutcomes.shift();
    if (scripted) return scripted;
    const failure = this.failures.shift();
    if (failure instanceof PermanentError) return { kind: "refused", reason: failure.reason };
    if (failure) return { kind: "failed", reason: failure.reason };
    const known = this.batchKeys.get(idempotencyKey);
    if (known) return { kind: "sent", ids: known, refused: [] };
    const refused = this.refuseNext;
    this.refuseNext = [];
    // Each email is recorded under its own key (its queue id), as the single-send requests were.
    const ids = emails.map(({ id: key, email }, index) => {
      if (refused.some((item) => item.index === index)) return undefined;
      const id = crypto.randomUUID();
      this.sent.push({ ...email, idempotencyKey: key, id });
      return id;
    });
    this.batchKeys.set(idempotencyKey, ids);
    return { kind: "sent", ids, refused };
  }
  private readonly batchKeys = new Map<string, (string | undefined)[]>();
  /** Forgets every idempotency key, as Resend does after 24 hours. */
  expireKeys() {
    this.batchKeys.clear();
  }
}

/** Serves fixed line items per session; counts calls. */
export class StaticLineItems implements LineItemSource {
  calls = 0;
  fail = false;
  constructor(readonly items: Record<string, LineItemPayload[]> = {}) {}
  async listLineItems(sessionId: string): Promise<LineItemPayload[]> {
    this.calls++;
    if (this.fail) throw new UpstreamError("stripe", "stripe:500");
    return this.items[sessionId] ?? [];
  }
}

/** Sessions on a Map, with Stripe's metadata update and newest-first listing; counts calls. */
export class MemorySessions implements SessionSource {
  readonly sessions = new Map<string, SessionPayload>();
  calls = 0;
  /** Of `calls`, the retrievals and the metadata writes. */
  retrieves = 0;
  updates = 0;
  failMark = false;
  async retrieve(sessionId: string) {
    this.calls++;
    this.retrieves++;
    const session = this.sessions.get(sessionId);
    return session && structuredClone(session);
  }
  async markFulfilled(sessionId: string, at: Date) {
    this.calls++;
    this.updates++;
    if (this.failMark) throw new UpstreamError("stripe", "stripe:500");
    const session = this.sessions.get(sessionId);
    if (!session) throw new UpstreamError("stripe", "stripe:404");
    session.metadata = {
      ...session.metadata,
      [FULFILLED_MARKER]: at.toISOString(),
      [ORDER_NUMBER_KEY]: orderNumber(sessionId),
    };
  }
  async listComplete(since: number, cursor: string | undefined): Promise<SessionPage> {
    this.calls++;
    const all = [...this.sessions.values()]
      .filter((s) => s.status === "complete" && (s.created ?? 0) >= since)
      .reverse();
    const start = cursor ? all.findIndex((s) => s.id === cursor) + 1 : 0;
    const page = all.slice(start, start + 2);
    return {
      sessions: structuredClone(page),
      nextCursor: start + 2 < all.length ? page.at(-1)?.id : undefined,
    };
  }
  async findByPaymentIntent(paymentIntent: string) {
    this.calls++;
    const found = [...this.sessions.values()].find(
      (s) =>
        (typeof s.payment_intent === "object" ? s.payment_intent?.id : s.payment_intent) === paymentIntent,
    );
    return found && structuredClone(found);
  }
}

/** Download counts on a Map, counted atomically as the Lua script does (one JavaScript turn per take). */
export class MemoryDownloadCounter implements DownloadCounter {
  readonly counts = new Map<string, Record<string, number>>();
  async used(orderKey: string, fileId: string) {
    return this.counts.get(orderKey)?.[fileId] ?? 0;
  }
  async take(orderKey: string, fileId: string, limit: number) {
    const counts = this.counts.get(orderKey) ?? {};
    const used = counts[fileId] ?? 0;
    if (used >= limit) return { taken: false, used };
    this.counts.set(orderKey, { ...counts, [fileId]: used + 1 });
    return { taken: true, used: used + 1 };
  }
  async all(orderKey: string) {
    return { ...this.counts.get(orderKey) };
  }
  async reset(orderKey: string) {
    this.counts.delete(orderKey);
  }
}

/** A logger that keeps entries for assertions. */
export function memoryLog() {
  const entries: ({ event: string } & LogFields)[] = [];
  return { entries, log: (event: string, fields: LogFields = {}) => entries.push({ event, ...fields }) };
}

/** A clock tests move by hand. Milliseconds. */
export function manualClock(start = Date.now()) {
  const clock = { now: start, advance: (ms: number) => (clock.now += ms), read: () => clock.now };
  return clock;
}

/** Fulfilment deps wired to fakes. */
export function fakeDeps(overrides: Partial<FulfilmentDeps> = {}) {
  const store = new MemoryClaimStore();
  const ledger = new MemoryLedger(store);
  const mailer = new RecordingMailer();
  const lineItems = new StaticLineItems();
  const sessions = new MemorySessions();
  const clock = manualClock();
  const { entries, log } = memoryLog();
  const deps: FulfilmentDeps = {
    claims: store,
    ledger,
    // As in production: every email is queued, and the drain sends it through `mailer`.
    mailer: queueMailer(ledger.queue, clock.read),
    lineItems,
    sessions,
    shop: testShop({ name: "Test Shop", siteUrl: "https://shop.example" }),
    merchantEmail: "owner@shop.example",
    scope: "shop",
    downloadSecret: "dls_test_0123456789abcdef0123456789abcdef",
    now: clock.read,
    log,
    ...overrides,
  };
  const drainDeps: DrainDeps = {
    queue: ledger.queue,
    ledger,
    sender: mailer,
    sessions: deps.sessions,
    merchantEmail: deps.merchantEmail,
    shop: deps.shop,
    spacingMs: 0,
    now: deps.now,
    // The fake clock moves instead of anyone sleeping.
    wait: async (ms) => {
      clock.advance(ms);
    },
    log: deps.log,
  };
  /** Sends everything queued, as the drain after a delivery does. */
  const drain = () => drainMail(drainDeps, 20_000);
  return {
    deps,
    store,
    ledger,
    mailer,
    lineItems,
    sessions,
    clock,
    logs: entries,
    queue: ledger.queue,
    drainDeps,
    drain,
  };
}

/** Every service of the shop over `fakes` (the merchant commands' view), with values kept in `values`. */
export function fakeServices(
  fakes: ReturnType<typeof fakeDeps>,
  values = new Map<string, string>(),
): Services {
  return {
    ...fakes.deps,
    queue: fakes.queue,
    customers: fakes.ledger.customerOrders,
    drain: fakes.drainDeps,
    downloads: new MemoryDownloadCounter(),
    values: {
      get: async (key) => values.get(key),
      set: async (key, value) => void values.set(key, value),
      delete: async (key) => void values.delete(key),
    },
  };
}

/** The webhook over `fakes`, draining the mail queue before it answers, and a `deliver` that signs events. */
export function fakeWebhook(fakes: ReturnType<typeof fakeDeps>, secret: string) {
  const handle = createWebhookHandler({
    webhookSecret: secret,
    deps: fakes.deps,
    log: fakes.deps.log,
    drain: fakes.drain,
  });
  const deliver = async (event: unknown) => {
    const res = await handle(webhookRequest(JSON.stringify(event), { secret }));
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { handle, deliver };
}

/** Shop facts for tests: an English shop with a support address, no logo, no pictures unless given. */
export function testShop(overrides: Partial<ShopInfo> = {}): ShopInfo {
  return {
    name: "Test Shop",
    supportEmail: "help@shop.example",
    locale: "en-US",
    siteUrl: undefined,
    logo: undefined,
    accentColor: undefined,
    productImages: {},
    productFiles: {},
    downloads: { expiresInDays: 30, limit: 5, revokeOnPartialRefund: false },
    refundConfirmations: true,
    ...overrides,
  };
}
