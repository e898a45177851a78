/** In-memory test doubles for the fulfilment ports, with the same semantics as the real adapters. */
import { PermanentError, StoreUnavailableError, UpstreamError } from "../../src/lib/errors.ts";
import type { FulfilmentDeps } from "../../src/fulfilment/fulfil.ts";
import type { ShopInfo } from "../../src/shop/info.ts";
import type {
  Claim,
  ClaimStore,
  DownloadCounter,
  Ledger,
  LineItemSource,
  Mailer,
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
  constructor(private readonly health: { check(): void } = { check() {} }) {}
  async get(key: string) {
    this.health.check();
    const record = this.records.get(key);
    return record && structuredClone(record);
  }
  async put(key: string, expected: OrderState | "absent", record: LedgerRecord) {
    this.health.check();
    const current = this.records.get(key)?.state ?? "absent";
    if (current !== expected) return false;
    if (!canTransition(current, record.state)) return false;
    this.records.set(key, structuredClone(record));
    return true;
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

/**
 * Records what would be sent; `failures` queues errors for the next sends. Honours idempotency keys like Resend:
 * the same key again sends nothing and answers the first id.
 */
export class RecordingMailer implements Mailer {
  readonly sent: (OutgoingEmail & { idempotencyKey: string; id: string })[] = [];
  readonly failures: (UpstreamError | PermanentError)[] = [];
  /** Every request, including repeats and failures. */
  requests = 0;
  private readonly keys = new Map<string, string>();
  async send(email: OutgoingEmail, idempotencyKey: string) {
    this.requests++;
    const failure = this.failures.shift();
    if (failure) throw failure;
    const known = this.keys.get(idempotencyKey);
    if (known) return { id: known };
    const id = crypto.randomUUID();
    this.keys.set(idempotencyKey, id);
    this.sent.push({ ...email, idempotencyKey, id });
    return { id };
  }
  /** Forgets every idempotency key, as Resend does after 24 hours. */
  expireKeys() {
    this.keys.clear();
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
    mailer,
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
  return { deps, store, ledger, mailer, lineItems, sessions, clock, logs: entries };
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
