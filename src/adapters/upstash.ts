/** Claims, the order ledger, the mail queue and small state over Upstash Redis (REST), with compare-and-set in Lua. */
import { Redis } from "@upstash/redis";
import { StoreUnavailableError } from "../lib/errors.ts";
import type {
  Claim,
  ClaimStore,
  CustomerOrders,
  DownloadCounter,
  Ledger,
  MailJob,
  MailQueue,
  MailTake,
  ValueStore,
} from "../fulfilment/ports.ts";
import { type LedgerRecord, TRANSITIONS } from "../order/ledger.ts";

/** A Redis REST client tuned for a webhook: no JSON guessing on values, and a short retry budget. */
export function createRedisClient(url: string, token: string): Redis {
  return new Redis({
    url,
    token,
    automaticDeserialization: false,
    // Two quick retries (~150 ms in all) instead of the SDK's ~4 s: Stripe's retry is the long loop.
    retry: { retries: 2, backoff: (attempt) => 50 * 2 ** attempt },
  });
}

/** Every key this project writes starts with this, so a shared database stays readable. */
export const KEY_PREFIX = "linkshop:";

/** Compare-and-delete of a claim. KEYS[1] = claim key, ARGV[1] = our token; returns 1 when deleted. */
export const RELEASE_SCRIPT = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`;

/** Claims stored as a random token with a TTL; `prefix` keeps tests apart in a shared database. */
export function upstashClaimStore(redis: Redis, prefix = KEY_PREFIX): ClaimStore {
  return {
    async claim(key, ttlSeconds): Promise<Claim> {
      const token = crypto.randomUUID();
      const taken = await guard(() => redis.set(prefix + key, token, { nx: true, ex: ttlSeconds }));
      if (taken === "OK") return { state: "claimed", token };
      // The client retries a SET whose answer was lost; then the key holds our own token and the claim is ours.
      const current = await guard(() => redis.get<string>(prefix + key));
      return current === token ? { state: "claimed", token } : { state: "busy" };
    },
    async release(key, token) {
      await guard(() => redis.eval<string[], number>(RELEASE_SCRIPT, [prefix + key], [token]));
    },
  };
}

/**
 * Lua shared by the scripts that write records and queue mail. `put` is the ledger's compare-and-set, with the allowed
 * transitions of src/order/ledger.ts written into it as a table: one hash per order (fields `state` and `record`, no
 * TTL), one ZSET index scored by creation time (ms), and one hash from PaymentIntent to order. `enqueue` queues
 * (id, score, job JSON) triples from `args[from]` on, skipping ids already waiting or sent in the last 24 hours.
 */
export function ledgerLua(transitions: Readonly<Record<string, readonly string[]>>): string {
  const table = Object.entries(transitions)
    .map(
      ([from, to]) =>
        `[${JSON.stringify(from)}]={${to.map((state) => `[${JSON.stringify(state)}]=true`).join(",")}}`,
    )
    .join(",");
  return `
local allowed = {${table}}
local function put(key, index, payments, expected, state, record, createdAt, member, paymentIntent)
  local current = redis.call("HGET", key, "state") or "absent"
  if current ~= expected then return 0 end
  if not (allowed[current] and allowed[current][state]) then return 0 end
  redis.call("HSET", key, "state", state, "record", record)
  redis.call("ZADD", index, "NX", createdAt, member)
  if paymentIntent ~= "" then redis.call("HSET", payments, paymentIntent, member) end
  return 1
end
local function enqueue(pending, jobs, sent, args, from)
  for i = from, #args, 3 do
    if not redis.call("ZSCORE", sent, args[i]) and redis.call("HSETNX", jobs, args[i], args[i + 2]) == 1 then
      redis.call("ZADD", pending, args[i + 1], args[i])
    end
  end
end
`;
}

const LUA = ledgerLua(TRANSITIONS);

/**
 * KEYS: order hash, index, payment index, pending mail, mail jobs, sent mail, the customer's orders. ARGV: expected
 * state ("absent" for none), new state, record JSON, creation time, index member, PaymentIntent ("" for none), "1"
 * to list the order under the customer, then mail job triples. Returns 1 when written (and queued, and listed).
 */
const PUT = `${LUA}
local written = put(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
if written == 1 then
  if ARGV[7] == "1" then redis.call("ZADD", KEYS[7], ARGV[4], ARGV[5]) end
  enqueue(KEYS[4], KEYS[5], KEYS[6], ARGV, 8)
end
return written`;

/** Redis keys of the ledger and the mail queue under `prefix`. */
function keys(prefix: string) {
  return {
    record: (key: string) => `${prefix}ledger:${key}`,
    recordPrefix: `${prefix}ledger:`,
    index: `${prefix}ledger:index`,
    payments: `${prefix}ledger:by-payment`,
    pending: `${prefix}mail:pending`,
    jobs: `${prefix}mail:jobs`,
    sent: `${prefix}mail:sent`,
    customer: (hash: string) => `${prefix}customers:${hash}`,
    batch: `${prefix}mail:batch`,
    state: `${prefix}mail:state`,
  };
}

const jobArgs = (jobs: MailJob[]) =>
  jobs.flatMap((job) => [job.id, String(job.queuedAt), JSON.stringify(job)]);

/** The ledger: `<prefix>ledger:<sessionKey>` hashes and the `<prefix>ledger:index` ZSET. */
export function upstashLedger(redis: Redis, prefix = KEY_PREFIX): Ledger {
  const k = keys(prefix);
  return {
    async get(key) {
      const raw = await guard(() => redis.hget<string>(k.record(key), "record"));
      return raw ? parseRecord(raw) : undefined;
    },
    async put(key, expected, record, { jobs = [], customer } = {}) {
      const written = await guard(() =>
        redis.eval<string[], number>(
          PUT,
          [k.record(key), k.index, k.payments, k.pending, k.jobs, k.sent, k.customer(customer ?? "none")],
          [
            expected,
            record.state,
            JSON.stringify(record),
            String(record.createdAt),
            key,
            record.paymentIntent ?? "",
            customer ? "1" : "",
            ...jobArgs(jobs),
          ],
        ),
      );
      return written === 1;
    },
    async findByPaymentIntent(paymentIntent) {
      return (await guard(() => redis.hget<string>(k.payments, paymentIntent))) ?? undefined;
    },
    async list({ limit, before }) {
      const max = before ?? "+inf";
      const members = await guard(() =>
        redis.zrange<string[]>(k.index, max, "-inf", { byScore: true, rev: true, offset: 0, count: limit }),
      );
      if (members.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const member of members) pipeline.hget(k.record(member), "record");
      const raws = await guard(() => pipeline.exec<(string | null)[]>());
      return members.flatMap((key, i) => {
        const raw = raws[i];
        return raw ? [{ key, record: parseRecord(raw) }] : [];
      });
    },
  };
}

// KEYS: pending, jobs, batch, state. ARGV: now, lease (ms), max emails, spacing (ms), new batch id, ledger prefix.
// Returns {"empty"} | {"busy"|"paused"|"wait", until}
//   | {"batch", id, since, attempts, uncertain since (0 for none), n, job JSON x n, key, record...}.
const TAKE_MAIL = `
local now = tonumber(ARGV[1])
local paused = tonumber(redis.call("HGET", KEYS[4], "pausedUntil") or "0")
if paused > now then return {"paused", paused} end
local raw = redis.call("GET", KEYS[3])
local batch
-- A lease or a last request further ahead than one lease or one spacing was written by a clock that ran ahead: it
-- does not hold the others back.
if raw then
  batch = cjson.decode(raw)
  if batch.leaseUntil > now and batch.leaseUntil <= now + tonumber(ARGV[2]) then return {"busy", batch.leaseUntil} end
  if batch.notBefore > now then return {"wait", batch.notBefore} end
  -- A lease that ran out with no retry or finish: its drainer stopped during the request (a function cut off at its
  -- time limit), which Resend may have accepted. From then on the batch's key is all that prevents a second send.
  if batch.leaseUntil > 0 and (batch.uncertainSince or 0) == 0 then
    batch.uncertainSince = batch.leaseUntil - tonumber(ARGV[2])
  end
elseif redis.call("ZCARD", KEYS[1]) == 0 then
  return {"empty"}
end
local nextAt = tonumber(redis.call("HGET", KEYS[4], "lastSendAt") or "0") + tonumber(ARGV[4])
if nextAt > now and nextAt <= now + tonumber(ARGV[4]) then return {"wait", nextAt} end
if not raw then
  local ids = redis.call("ZRANGE", KEYS[1], 0, tonumber(ARGV[3]) - 1)
  redis.call("ZREM", KEYS[1], unpack(ids))
  batch = {id = ARGV[5], jobs = ids, since = now, attempts = 0, notBefore = 0, uncertainSince = 0}
end
batch.attempts = batch.attempts + 1
batch.leaseUntil = now + tonumber(ARGV[2])
redis.call("SET", KEYS[3], cjson.encode(batch))
redis.call("HSET", KEYS[4], "lastSendAt", now)
local jobs = redis.call("HMGET", KEYS[2], unpack(batch.jobs))
local reply = {"batch", batch.id, batch.since, batch.attempts, batch.uncertainSince or 0, #jobs}
local seen = {}
local records = {}
for i, job in ipairs(jobs) do
  reply[#reply + 1] = job or ""
  if job then
    local order = cjson.decode(job).order
    if type(order) == "table" and not seen[order.key] then
      seen[order.key] = true
      records[#records + 1] = order.key
      records[#records + 1] = redis.call("HGET", ARGV[6] .. order.key, "record") or ""
    end
  end
end
for _, value in ipairs(records) do reply[#reply + 1] = value end
return reply`;

// KEYS: pending, jobs, batch, sent, index, payments. ARGV: batch id, now, ledger prefix, number of writes, number of
// refused ids, the refused ids, then per write: key, expected, state, record JSON, creation time, PaymentIntent; then
// mail job triples. Returns {-1} when the batch is no longer ours, else 1/0 per write.
const FINISH_MAIL = `${LUA}
local raw = redis.call("GET", KEYS[3])
if not raw then return {-1} end
local batch = cjson.decode(raw)
if batch.id ~= ARGV[1] then return {-1} end
redis.call("DEL", KEYS[3])
local now = tonumber(ARGV[2])
local n = tonumber(ARGV[4])
local r = tonumber(ARGV[5])
local refused = {}
for i = 6, 5 + r do refused[ARGV[i]] = true end
for _, id in ipairs(batch.jobs) do
  redis.call("HDEL", KEYS[2], id)
  -- Refused emails are not remembered as sent: a merchant's retry may queue them again.
  if not refused[id] then redis.call("ZADD", KEYS[4], now, id) end
end
redis.call("ZREMRANGEBYSCORE", KEYS[4], "-inf", now - 86400000)
local results = {}
for i = 0, n - 1 do
  local a = 6 + r + i * 6
  results[#results + 1] = put(ARGV[3] .. ARGV[a], KEYS[5], KEYS[6], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3],
    ARGV[a + 4], ARGV[a], ARGV[a + 5])
end
enqueue(KEYS[1], KEYS[2], KEYS[4], ARGV, 6 + r + n * 6)
return results`;

// KEYS: batch, state. ARGV: batch id, not before (ms), "1" to pause all sending until then, the time (ms) of a request
// that ended without an answer ("" for none).
const RETRY_MAIL = `
local raw = redis.call("GET", KEYS[1])
if raw then
  local batch = cjson.decode(raw)
  if batch.id == ARGV[1] then
    batch.leaseUntil = 0
    batch.notBefore = tonumber(ARGV[2])
    if ARGV[4] ~= "" and (batch.uncertainSince or 0) == 0 then batch.uncertainSince = tonumber(ARGV[4]) end
    redis.call("SET", KEYS[1], cjson.encode(batch))
  end
end
if ARGV[3] == "1" then redis.call("HSET", KEYS[2], "pausedUntil", ARGV[2]) end
return 1`;

// KEYS: pending, batch, state. Returns {pending, oldest score or "", batch JSON or "", paused until or ""}.
const MAIL_STATUS = `
local oldest = redis.call("ZRANGE", KEYS[1], 0, 0, "WITHSCORES")
return {redis.call("ZCARD", KEYS[1]), oldest[2] or "", redis.call("GET", KEYS[2]) or "",
  redis.call("HGET", KEYS[3], "pausedUntil") or ""}`;

/**
 * The mail queue: `<prefix>mail:pending` (ZSET of job ids by queue time), `mail:jobs` (hash of job JSON),
 * `mail:batch` (the one batch in flight, with its lease), `mail:sent` (ids sent in the last 24 hours) and
 * `mail:state` (when the last request was made, and a pause).
 */
export function upstashMailQueue(redis: Redis, prefix = KEY_PREFIX): MailQueue {
  const k = keys(prefix);
  return {
    async enqueue(jobs) {
      if (jobs.length === 0) return;
      await guard(() =>
        redis.eval<string[], number>(
          `${LUA}\nenqueue(KEYS[1], KEYS[2], KEYS[3], ARGV, 1)\nreturn 1`,
          [k.pending, k.jobs, k.sent],
          jobArgs(jobs),
        ),
      );
    },
    async take({ now, leaseMs, max, spacingMs, batchId }): Promise<MailTake> {
      const reply = await guard(() =>
        redis.eval<string[], (string | number)[]>(
          TAKE_MAIL,
          [k.pending, k.jobs, k.batch, k.state],
          [String(now), String(leaseMs), String(max), String(spacingMs), batchId, k.recordPrefix],
        ),
      );
      const [kind, ...rest] = reply;
      if (kind === "empty") return { kind };
      if (kind === "busy" || kind === "paused" || kind === "wait") return { kind, until: Number(rest[0]) };
      const [id, since, attempts, uncertain, count, ...tail] = rest;
      const n = Number(count);
      const jobs = tail
        .slice(0, n)
        .filter((raw) => raw !== "")
        .map((raw) => JSON.parse(String(raw)) as MailJob);
      const records: Record<string, LedgerRecord> = {};
      const pairs = tail.slice(n);
      for (let i = 0; i + 1 < pairs.length; i += 2) {
        const raw = String(pairs[i + 1]);
        if (raw !== "") records[String(pairs[i])] = parseRecord(raw);
      }
      return {
        kind: "batch",
        id: String(id),
        since: Number(since),
        attempts: Number(attempts),
        uncertainSince: Number(uncertain) > 0 ? Number(uncertain) : null,
        jobs,
        records,
      };
    },
    async finish(id, writes, then, now, refused = []) {
      const reply = await guard(() =>
        redis.eval<string[], number[]>(
          FINISH_MAIL,
          [k.pending, k.jobs, k.batch, k.sent, k.index, k.payments],
          [
            id,
            String(now),
            k.recordPrefix,
            String(writes.length),
            String(refused.length),
            ...refused,
            ...writes.flatMap(({ key, expected, record }) => [
              key,
              expected,
              record.state,
              JSON.stringify(record),
              String(record.createdAt),
              record.paymentIntent ?? "",
            ]),
            ...jobArgs(then),
          ],
        ),
      );
      if (reply[0] === -1) return undefined;
      return writes.map((_, i) => reply[i] === 1);
    },
    async retryLater(id, notBefore, { pause = false, uncertainAt } = {}) {
      await guard(() =>
        redis.eval<string[], number>(
          RETRY_MAIL,
          [k.batch, k.state],
          [id, String(notBefore), pause ? "1" : "0", uncertainAt === undefined ? "" : String(uncertainAt)],
        ),
      );
    },
    async status() {
      const [pending, oldest, batch, paused] = await guard(() =>
        redis.eval<string[], [number, string, string, string]>(
          MAIL_STATUS,
          [k.pending, k.batch, k.state],
          [],
        ),
      );
      const inFlight = batch
        ? (JSON.parse(batch) as { jobs: string[]; attempts: number; since: number; notBefore: number })
        : undefined;
      const pausedUntil = paused === "" ? null : Number(paused);
      return {
        waiting: Number(pending) + (inFlight?.jobs.length ?? 0),
        oldestQueuedAt: oldest === "" ? (inFlight?.since ?? null) : Number(oldest),
        pausedUntil: pausedUntil !== null && pausedUntil > Date.now() ? pausedUntil : null,
        inFlight: inFlight
          ? { attempts: inFlight.attempts, since: inFlight.since, notBefore: inFlight.notBefore }
          : null,
      };
    },
  };
}

/** Each customer's orders: `<prefix>customers:<hash>` ZSETs of ledger keys scored by creation time, no expiry. */
export function upstashCustomerOrders(redis: Redis, prefix = KEY_PREFIX): CustomerOrders {
  const k = keys(prefix);
  return {
    async list(customer, limit) {
      return guard(() => redis.zrange<string[]>(k.customer(customer), 0, limit - 1, { rev: true }));
    },
    async add(customer, key, createdAt) {
      await guard(() => redis.zadd(k.customer(customer), { score: createdAt, member: key }));
    },
  };
}

/** ValueStore over Redis, keys under `prefix`. */
export function upstashValues(redis: Redis, prefix = KEY_PREFIX): ValueStore {
  return {
    async get(key) {
      return (await guard(() => redis.get<string>(prefix + key))) ?? undefined;
    },
    async set(key, value, ttlSeconds) {
      await guard(() => redis.set(prefix + key, value, { ex: ttlSeconds }));
    },
    async delete(key) {
      await guard(() => redis.del(prefix + key));
    },
  };
}

// KEYS[1] = the order's counts (hash: file id -> transfers), ARGV[1] = file id, ARGV[2] = limit.
// Returns {1, count} when a transfer was counted, {0, count} when the limit was already reached.
const TAKE = `
local used = tonumber(redis.call("HGET", KEYS[1], ARGV[1]) or "0")
if used >= tonumber(ARGV[2]) then return {0, used} end
return {1, redis.call("HINCRBY", KEYS[1], ARGV[1], 1)}`;

/** Download counts: `<prefix>downloads:<orderKey>` hashes of file id -> transfers, no expiry. */
export function upstashDownloadCounter(redis: Redis, prefix = KEY_PREFIX): DownloadCounter {
  const countsKey = (orderKey: string) => `${prefix}downloads:${orderKey}`;
  return {
    async used(orderKey, fileId) {
      return Number((await guard(() => redis.hget<string>(countsKey(orderKey), fileId))) ?? 0);
    },
    async take(orderKey, fileId, limit) {
      const [taken, used] = await guard(() =>
        redis.eval<string[], [number, number]>(TAKE, [countsKey(orderKey)], [fileId, String(limit)]),
      );
      return { taken: taken === 1, used: Number(used) };
    },
    async all(orderKey) {
      const counts = (await guard(() => redis.hgetall<Record<string, string>>(countsKey(orderKey)))) ?? {};
      return Object.fromEntries(Object.entries(counts).map(([id, count]) => [id, Number(count)]));
    },
    async reset(orderKey) {
      await guard(() => redis.del(countsKey(orderKey)));
    },
  };
}

function parseRecord(raw: string): LedgerRecord {
  return JSON.parse(raw) as LedgerRecord;
}

async function guard<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new StoreUnavailableError("Redis request failed", { cause: error });
  }
}
