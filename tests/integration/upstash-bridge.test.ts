// The Upstash-REST bridge, spoken to over real HTTP by the real @upstash/redis SDK, against real Redis and in memory.
import { createHash, randomUUID } from "node:crypto";
import { errors, Redis, type RedisConfigNodejs } from "@upstash/redis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { freePort } from "../../dev/ports.ts";
import { startUpstashBridge, type UpstashBridge } from "../../dev/upstash-bridge.ts";
import { canConnect } from "../support/redis.ts";

const TOKEN = "bridge-test-token";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const inCI = Boolean(process.env.CI);
const redisReachable = await canConnect(REDIS_URL);
// In CI a missing Redis must fail the run (the "redis" suites then fail in beforeAll); locally it only skips them.
const skipRealRedis = !inCI && !redisReachable;
const skipReason = skipRealRedis
  ? ` (SKIPPED: no Redis at ${REDIS_URL}; start one or set REDIS_URL, and CI=1 makes it required)`
  : "";
if (skipRealRedis) console.warn(`upstash-bridge tests: real-Redis suites skipped${skipReason}`);

/** Compare-and-delete: remove the lock only if it still holds our token. */
const COMPARE_AND_DELETE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
/** Compare-and-set: replace the token only if it is still the expected one. */
const COMPARE_AND_SET =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('set', KEYS[1], ARGV[2]) else return nil end";

const TRICKY_STRINGS = [
  "123",
  "-0.5",
  "1e3",
  '{"a":1,"b":[true,null]}',
  "[1,2]",
  "null",
  "true",
  "OK",
  "",
  "  spaced  ",
  "line\nbreak\ttab",
  "héllo wörld ✓ 日本語 🚀",
  "T0s=",
];

for (const backend of ["redis", "memory"] as const) {
  describe.skipIf(backend === "redis" && skipRealRedis)(
    `upstash bridge, ${backend} backend${skipReason}`,
    () => {
      let bridge: UpstashBridge;
      let redis: Redis;
      /** Returns strings exactly as stored, without the SDK's JSON guessing. */
      let exact: Redis;
      let prefix: string;

      const client = (config: Partial<RedisConfigNodejs> = {}) =>
        new Redis({ url: bridge.url, token: TOKEN, retry: false, enableTelemetry: false, ...config });
      const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
        fetch(`${bridge.url}${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...headers },
          body: typeof body === "string" ? body : JSON.stringify(body),
        });

      beforeAll(async () => {
        bridge = await startUpstashBridge({ token: TOKEN, backend, redisUrl: REDIS_URL });
        redis = client();
        exact = client({ automaticDeserialization: false });
      });
      afterAll(async () => {
        await bridge?.close();
      });
      beforeEach(() => {
        prefix = `bridge-test:${randomUUID()}:`;
      });
      afterEach(async () => {
        bridge.setUnavailable(false);
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
      });

      it("runs scripts with Upstash's `allow-key-locking` shebang flag, by EVAL, EVALSHA and SCRIPT LOAD", async () => {
        const script = `#!lua flags=allow-key-locking\nreturn redis.call("INCR", KEYS[1])`;
        const sha = createHash("sha1").update(script).digest("hex");
        const key = `${prefix}locked`;
        await expect(redis.evalsha(sha, [key], [])).rejects.toThrow(/NOSCRIPT/);
        expect(await redis.eval(script, [key], [])).toBe(1);
        // Known by the SHA-1 the client computed from what it sent, as Upstash knows it.
        expect(await redis.evalsha(sha, [key], [])).toBe(2);
        expect(await redis.scriptLoad(script)).toBe(sha);
        expect(await redis.scriptExists(sha)).toEqual([1]);
      });

      it("counts the commands it runs, each command of a pipeline", async () => {
        const before = bridge.commands();
        await redis.get(`${prefix}a`);
        const pipeline = redis.pipeline();
        pipeline.get(`${prefix}a`);
        pipeline.get(`${prefix}b`);
        await pipeline.exec();
        expect(bridge.commands() - before).toBe(3);
      });

      it("runs on the backend it was asked for", () => {
        expect(bridge.backend).toBe(backend);
        expect(bridge.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      });

      it("round-trips strings exactly, including ones that look like numbers, JSON or base64, and unicode", async () => {
        for (const [i, value] of TRICKY_STRINGS.entries()) {
          await exact.set(`${prefix}s${i}`, value);
          expect(await exact.get(`${prefix}s${i}`)).toBe(value);
        }
        // Without base64 the JSON reply carries the text as is.
        const plain = client({ responseEncoding: false, automaticDeserialization: false });
        expect(await plain.get(`${prefix}s${TRICKY_STRINGS.length - 2}`)).toBe("héllo wörld ✓ 日本語 🚀");
      });

      it("round-trips JSON values through the SDK's default (de)serialisation, with unicode keys", async () => {
        const order = { id: "cs_test_1", amount: 1999, items: ["Mug ☕"], paid: true };
        await redis.set(`${prefix}ключ`, order);
        expect(await redis.get(`${prefix}ключ`)).toEqual(order);
        expect(await redis.keys(`${prefix}*`)).toEqual([`${prefix}ключ`]);
      });

      it("encodes every string reply in base64 when asked, except a top-level OK; integers and nil stay", async () => {
        const key = `${prefix}enc`;
        const base64 = { "upstash-encoding": "base64" };
        const b64 = (s: string) => Buffer.from(s).toString("base64");

        expect(await (await post("/", ["SET", key, "héllo"], base64)).json()).toEqual({ result: "OK" });
        expect(await (await post("/", ["GET", key], base64)).json()).toEqual({ result: b64("héllo") });
        expect(await (await post("/", ["GET", key])).json()).toEqual({ result: "héllo" });
        expect(await (await post("/", ["EXISTS", key], base64)).json()).toEqual({ result: 1 });
        expect(await (await post("/", ["GET", `${prefix}missing`], base64)).json()).toEqual({ result: null });
        // Inside arrays the SDK decodes every string, so "OK" is encoded there too.
        const table = await post("/", ["EVAL", "return {'OK', ARGV[1], 7, {'x'}}", "0", "ü"], base64);
        expect(await table.json()).toEqual({ result: [b64("OK"), b64("ü"), 7, [b64("x")]] });
        expect(await (await post("/", ["KEYS", `${prefix}*`], base64)).json()).toEqual({
          result: [b64(key)],
        });
      });

      it("SET NX sets only once, and SET GET returns the previous value", async () => {
        const key = `${prefix}event`;
        expect(await exact.set(key, "first", { nx: true, px: 60_000 })).toBe("OK");
        expect(await exact.set(key, "second", { nx: true, px: 60_000 })).toBeNull();
        expect(await exact.get(key)).toBe("first");
        expect(await exact.set(key, "third", { get: true })).toBe("first");
        expect(await exact.get(key)).toBe("third");
      });

      it("keeps the TTL given by SET EX/PX and EXPIRE, and reports it through TTL and PTTL", async () => {
        const key = `${prefix}ttl`;
        await redis.set(key, "v", { ex: 60 });
        const ttl = await redis.ttl(key);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(60);

        // NX, GET and PX together, in the order and case the SDK sends them.
        await redis.set(key, "w", { nx: true, get: true, px: 5_000 });
        expect(await redis.ttl(key)).toBeGreaterThan(5);

        await redis.set(key, "w", { px: 5_000 });
        const pttl = await redis.pttl(key);
        expect(pttl).toBeGreaterThan(0);
        expect(pttl).toBeLessThanOrEqual(5_000);

        await redis.set(key, "persistent");
        expect(await redis.ttl(key)).toBe(-1);
        expect(await redis.expire(key, 120)).toBe(1);
        expect(await redis.ttl(key)).toBeGreaterThan(60);
        expect(await redis.ttl(`${prefix}missing`)).toBe(-2);
      });

      it("counts with INCR, and checks and removes keys with EXISTS and DEL", async () => {
        const counter = `${prefix}counter`;
        expect(await redis.incr(counter)).toBe(1);
        expect(await redis.incr(counter)).toBe(2);
        await redis.set(`${prefix}other`, "x");
        expect(await redis.exists(counter, `${prefix}other`, `${prefix}missing`)).toBe(2);
        expect(await redis.del(counter, `${prefix}other`)).toBe(2);
        expect(await redis.exists(counter)).toBe(0);
      });

      it("runs Lua compare-and-delete and compare-and-set with EVAL", async () => {
        const lock = `${prefix}lock`;
        await redis.set(lock, "token-a", { nx: true, ex: 60 });

        expect(await redis.eval(COMPARE_AND_DELETE, [lock], ["token-b"])).toBe(0);
        expect(await exact.get(lock)).toBe("token-a");

        expect(await redis.eval(COMPARE_AND_SET, [lock], ["token-b", "token-c"])).toBeNull();
        expect(await redis.eval(COMPARE_AND_SET, [lock], ["token-a", "token-c"])).toBe("OK");
        expect(await exact.get(lock)).toBe("token-c");

        expect(await redis.eval(COMPARE_AND_DELETE, [lock], ["token-c"])).toBe(1);
        expect(await redis.exists(lock)).toBe(0);
      });

      it("loads scripts with SCRIPT LOAD, runs them with EVALSHA, and lets the SDK fall back on NOSCRIPT", async () => {
        const key = `${prefix}cad`;
        await redis.set(key, "mine");
        const sha = await redis.scriptLoad(COMPARE_AND_DELETE);
        expect(sha).toMatch(/^[0-9a-f]{40}$/);
        expect(await redis.evalsha(sha, [key], ["theirs"])).toBe(0);
        expect(await redis.evalsha(sha, [key], ["mine"])).toBe(1);

        // A script no server has seen (the comment makes it unique): EVALSHA answers NOSCRIPT, the SDK retries with EVAL.
        const unknown = `return ARGV[1] -- ${randomUUID()}`;
        await expect(redis.evalsha("0".repeat(40), [], ["x"])).rejects.toThrow(/NOSCRIPT/);
        expect(await redis.createScript<string>(unknown).exec([], ["echoed"])).toBe("echoed");
      });

      it("finds keys with KEYS and SCAN", async () => {
        await redis.set(`${prefix}a`, 1);
        await redis.set(`${prefix}b`, 2);
        expect((await redis.keys(`${prefix}*`)).sort()).toEqual([`${prefix}a`, `${prefix}b`]);

        const found: string[] = [];
        let cursor = "0";
        do {
          const [next, keys] = await redis.scan(cursor, { match: `${prefix}*`, count: 100 });
          found.push(...keys);
          cursor = String(next);
        } while (cursor !== "0");
        expect(found.sort()).toEqual([`${prefix}a`, `${prefix}b`]);
      });

      it("answers an explicit pipeline with one result per command, errors in place", async () => {
        const key = `${prefix}p`;
        const results = await redis.pipeline().set(key, 1).incr(key).get(key).exec();
        expect(results).toEqual(["OK", 2, 2]);

        const withError = await exact
          .pipeline()
          .set(key, "text")
          .incr(key)
          .lpush(key, "x")
          .get(key)
          .exec({ keepErrors: true });
        // INCR of text and LPUSH on a string both fail; the commands around them still run.
        expect(withError.map((r) => r.error === undefined)).toEqual([true, false, false, true]);
        expect(withError[3]?.result).toBe("text");
      });

      it("serves the SDK's auto-pipelining", async () => {
        const auto = client({ enableAutoPipelining: true });
        const writes = await Promise.all([
          auto.set(`${prefix}auto`, "v"),
          auto.incr(`${prefix}auto-n`),
          auto.incr(`${prefix}auto-n`),
        ]);
        expect(writes).toEqual(["OK", 1, 2]);
        const reads = await Promise.all([auto.get(`${prefix}auto`), auto.get(`${prefix}auto-n`)]);
        expect(reads).toEqual(["v", 2]);
        // The SDK batches writes and reads separately: five calls, two POST /pipeline requests.
        expect(Reflect.get(auto, "pipelineCounter")).toBe(2);
      });

      it("answers raw /pipeline requests as an array of { result } and { error }", async () => {
        const key = `${prefix}raw`;
        const res = await post("/pipeline", [
          ["SET", key, "text"],
          ["INCR", key],
          ["GET", key],
          ["NOSUCHCOMMAND"],
        ]);
        expect(res.status).toBe(200);
        const body = (await res.json()) as Array<{ result?: unknown; error?: string }>;
        expect(body[0]).toEqual({ result: "OK" });
        expect(body[1]?.error).toEqual(expect.any(String));
        expect(body[2]).toEqual({ result: "text" });
        expect(body[3]?.error).toMatch(/^ERR unknown command/i);
      });

      it("runs multi() as a MULTI/EXEC transaction", async () => {
        const key = `${prefix}tx`;
        expect(await redis.multi().set(key, 1).incr(key).incr(key).get(key).exec()).toEqual(["OK", 2, 3, 3]);

        const withError = await exact
          .multi()
          .set(key, "text")
          .lpush(key, "x")
          .get(key)
          .exec({ keepErrors: true });
        expect(withError.map((r) => r.error === undefined)).toEqual([true, false, true]);
        expect(withError[2]?.result).toBe("text");
        await expect(redis.multi().set(key, 1).lpush(key, "x").exec()).rejects.toThrow(errors.UpstashError);

        // A command Redis cannot queue discards the whole transaction.
        const aborted = await post("/multi-exec", [["SET", `${prefix}aborted`, "1"], ["NOSUCHCOMMAND"]]);
        expect(aborted.status).toBe(400);
        expect(await aborted.json()).toEqual({
          error: expect.stringMatching(/^EXECABORT.*unknown command/i),
        });
        expect(await redis.exists(`${prefix}aborted`)).toBe(0);
      });

      it("answers a command error with 400 and the Redis message, which the SDK throws", async () => {
        const res = await post("/", ["NOSUCHCOMMAND", "x"]);
        expect(res.status).toBe(400);
        expect(await res.json()).toEqual({ error: expect.stringMatching(/^ERR unknown command/i) });

        await redis.set(`${prefix}str`, "text");
        await expect(redis.lpush(`${prefix}str`, "x")).rejects.toThrow(errors.UpstashError);
      });

      it("refuses FLUSHDB and FLUSHALL, alone, in a pipeline and in a transaction, and keeps the data", async () => {
        const key = `${prefix}survivor`;
        await redis.set(key, "still here");

        for (const name of ["FLUSHDB", "flushall"]) {
          const res = await post("/", [name]);
          expect(res.status).toBe(400);
          expect(await res.json()).toEqual({ error: expect.stringMatching(/not allowed/) });
        }
        const piped = (await (await post("/pipeline", [["FLUSHDB"], ["GET", key]])).json()) as unknown[];
        expect(piped).toEqual([{ error: expect.stringMatching(/not allowed/) }, { result: "still here" }]);

        const tx = await post("/multi-exec", [["SET", `${prefix}tx`, "1"], ["FLUSHDB"]]);
        expect(tx.status).toBe(400);
        expect(await redis.exists(`${prefix}tx`)).toBe(0);
        await expect(redis.flushdb()).rejects.toThrow(errors.UpstashError);
        expect(await redis.get(key)).toBe("still here");
      });

      it("rejects malformed bodies with 400 and a JSON error", async () => {
        for (const [path, body] of [
          ["/", "not json"],
          ["/", "{}"],
          ["/", "[]"],
          ["/", "[1, 2]"],
          ["/", '["GET", {"nested": true}]'],
          ["/pipeline", '["GET", "k"]'],
          ["/pipeline", "[]"],
          ["/multi-exec", '{"commands": []}'],
        ] as const) {
          const res = await post(path, body);
          expect(res.status, `${path} ${body}`).toBe(400);
          expect(await res.json()).toEqual({ error: expect.any(String) });
        }
      });

      it("accepts the path-style GET form", async () => {
        const key = `${prefix}path/with spaces`;
        const headers = { authorization: `Bearer ${TOKEN}` };
        const set = await fetch(`${bridge.url}/set/${encodeURIComponent(key)}/v%C3%A4l/EX/60`, { headers });
        expect(await set.json()).toEqual({ result: "OK" });
        const get = await fetch(`${bridge.url}/get/${encodeURIComponent(key)}`, { headers });
        expect(await get.json()).toEqual({ result: "väl" });
        expect(await redis.ttl(key)).toBeGreaterThan(0);
        const malformed = await fetch(`${bridge.url}/get/%E0%A4%A`, { headers });
        expect(malformed.status).toBe(400);
      });

      it("answers 401 to a wrong or missing token, which the SDK throws", async () => {
        await redis.set(`${prefix}secret`, "v");
        const intruder = client({ token: "wrong-token" });
        await expect(intruder.get(`${prefix}secret`)).rejects.toThrow(/Unauthorized/);

        const missing = await fetch(`${bridge.url}/`, { method: "POST", body: JSON.stringify(["GET", "k"]) });
        expect(missing.status).toBe(401);
        expect(await missing.json()).toEqual({ error: "Unauthorized" });
        const wrong = await post("/", ["GET", "k"], { authorization: "Bearer nope" });
        expect(wrong.status).toBe(401);
        const pipeline = await post("/pipeline", [["GET", "k"]], { authorization: `Basic ${TOKEN}` });
        expect(pipeline.status).toBe(401);
      });

      it("fails every command with 500 while unavailable, and recovers when set back", async () => {
        const key = `${prefix}outage`;
        await redis.set(key, "before");
        bridge.setUnavailable(true);

        await expect(redis.get(key)).rejects.toThrow(errors.UpstashError);
        await expect(redis.pipeline().get(key).exec()).rejects.toThrow(errors.UpstashError);
        const raw = await post("/", ["GET", key]);
        expect(raw.status).toBe(500);
        expect(await raw.json()).toEqual({ error: expect.any(String) });
        expect((await post("/multi-exec", [["GET", key]])).status).toBe(500);

        bridge.setUnavailable(false);
        expect(await redis.get(key)).toBe("before");
      });
    },
  );
}

describe("upstash bridge startup and shutdown", () => {
  /** A bridge in "auto" mode over the Redis at `redisUrl`, and the warnings it gave. */
  async function autoBridge(redisUrl: string) {
    const warnings: string[] = [];
    const bridge = await startUpstashBridge({ token: TOKEN, redisUrl, onWarning: (m) => warnings.push(m) });
    return { bridge, warnings };
  }
  /** The SDK on `bridge`, without retries, so a refused request fails at once. */
  const sdk = (bridge: UpstashBridge) =>
    new Redis({ url: bridge.url, token: TOKEN, retry: false, enableTelemetry: false });

  it('falls back to memory in "auto" mode, with one warning, when Redis is absent', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const { bridge, warnings } = await autoBridge(url);
    try {
      expect(bridge.backend).toBe("memory");
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(url.replace("redis://", ""));
      expect(warnings[0]).not.toContain("\n");
      expect(await sdk(bridge).set("k", "v")).toBe("OK");
    } finally {
      await bridge.close();
    }
  });

  it('rejects in "redis" mode when Redis is absent, naming the URL but not its password', async () => {
    const port = await freePort();
    const attempt = startUpstashBridge({
      token: TOKEN,
      backend: "redis",
      redisUrl: `redis://app:hunter2@127.0.0.1:${port}`,
    });
    await expect(attempt).rejects.toThrow(`127.0.0.1:${port}`);
    await expect(attempt).rejects.not.toThrow(/hunter2/);
  });

  it.skipIf(skipRealRedis)(`uses real Redis in "auto" mode when it is reachable${skipReason}`, async () => {
    const { bridge, warnings } = await autoBridge(REDIS_URL);
    try {
      expect(bridge.backend).toBe("redis");
      expect(warnings).toEqual([]);
    } finally {
      await bridge.close();
    }
  });

  it("gives each in-memory bridge its own data", async () => {
    const first = await startUpstashBridge({ token: TOKEN, backend: "memory" });
    const second = await startUpstashBridge({ token: TOKEN, backend: "memory" });
    try {
      await sdk(first).set("shared-name", "first");
      expect(await sdk(second).get("shared-name")).toBeNull();
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it("stops answering after close(), and close() can be called twice", async () => {
    const bridge = await startUpstashBridge({ token: TOKEN, backend: "memory" });
    expect(await sdk(bridge).set("k", "v")).toBe("OK");
    await bridge.close();
    await bridge.close();
    await expect(fetch(`${bridge.url}/`, { method: "POST", body: "[]" })).rejects.toThrow();
  });
});
