/** In-memory test doubles for the fulfilment ports, with the same semantics as the real adapters. */
import { StoreUnavailableError, UpstreamError } from "../../src/errors.ts";
import type { FulfilmentDeps } from "../../src/fulfillment/fulfill.ts";
import type { LineItemPayload } from "../../src/fulfillment/order.ts";
import type {
  Claim,
  ClaimStore,
  LineItemSource,
  Mailer,
  OutgoingEmail,
} from "../../src/fulfillment/ports.ts";
import type { LogFields } from "../../src/log.ts";

/** A ClaimStore on a Map (TTL ignored); `down` makes every call fail like an unreachable Redis. */
export class MemoryClaimStore implements ClaimStore {
  readonly values = new Map<string, string>();
  down = false;
  async claim(key: string): Promise<Claim> {
    this.check();
    const current = this.values.get(key);
    if (current === "done") return { state: "done" };
    if (current !== undefined) return { state: "busy" };
    const token = `processing:${crypto.randomUUID()}`;
    this.values.set(key, token);
    return { state: "claimed", token };
  }
  async complete(key: string, token: string): Promise<boolean> {
    this.check();
    if (this.values.get(key) !== token) return false;
    this.values.set(key, "done");
    return true;
  }
  async release(key: string, token: string): Promise<void> {
    this.check();
    if (this.values.get(key) === token) this.values.delete(key);
  }
  private check() {
    if (this.down) throw new StoreUnavailableError("store is down");
  }
}

/** Records what would be sent; `failures` queues errors for the next sends. Honours idempotency keys. */
export class RecordingMailer implements Mailer {
  readonly sent: (OutgoingEmail & { idempotencyKey: string })[] = [];
  readonly failures: UpstreamError[] = [];
  private readonly keys = new Set<string>();
  async send(emails: OutgoingEmail[], idempotencyKey: string): Promise<void> {
    const failure = this.failures.shift();
    if (failure) throw failure;
    if (this.keys.has(idempotencyKey)) return;
    this.keys.add(idempotencyKey);
    for (const email of emails) this.sent.push({ ...email, idempotencyKey });
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

/** A logger that keeps entries for assertions. */
export function memoryLog() {
  const entries: ({ event: string } & LogFields)[] = [];
  return { entries, log: (event: string, fields: LogFields = {}) => entries.push({ event, ...fields }) };
}

/** Fulfilment deps wired to fakes. */
export function fakeDeps(overrides: Partial<FulfilmentDeps> = {}) {
  const store = new MemoryClaimStore();
  const mailer = new RecordingMailer();
  const lineItems = new StaticLineItems();
  const { entries, log } = memoryLog();
  const deps: FulfilmentDeps = {
    store,
    mailer,
    lineItems,
    shop: { name: "Test Shop", siteUrl: "https://shop.example" },
    merchantEmail: "owner@shop.example",
    log,
    ...overrides,
  };
  return { deps, store, mailer, lineItems, logs: entries };
}
