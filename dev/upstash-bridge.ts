// Local Upstash-REST bridge: lets the @upstash/redis SDK talk to a real Redis, or to an embedded in-memory store.
import { createHash, randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { Redis, ReplyError } from "ioredis";
import * as v from "valibot";

/** How to start a bridge. */
export interface UpstashBridgeOptions {
  /** Bearer token clients must send; wrong or missing -> 401 JSON `{ error }`. */
  token: string;
  /** TCP port, 0 = ephemeral. Default 0. Host is always 127.0.0.1. */
  port?: number;
  /** Real Redis URL. Default `process.env.REDIS_URL ?? "redis://127.0.0.1:6379"`. */
  redisUrl?: string;
  /**
   * "auto": use real Redis when reachable, else the embedded in-memory store (ioredis-mock) and a one-line warning
   * via `onWarning`. "redis": real Redis required; rejects with an Error naming the URL if unreachable.
   * "memory": always in-memory. Default "auto".
   */
  backend?: "auto" | "redis" | "memory";
  /** Key prefix isolation is NOT the bridge's job; tests use unique keys. Default: `console.warn`. */
  onWarning?: (message: string) => void;
  /** How long to wait for Redis to accept a connection, in milliseconds. Default 5000. */
  connectTimeoutMs?: number;
}

/** A running bridge. */
export interface UpstashBridge {
  /** Base URL without trailing slash, e.g. `http://127.0.0.1:54321`; use it as UPSTASH_REDIS_REST_URL. */
  url: string;
  /** The token clients must send; use it as UPSTASH_REDIS_REST_TOKEN. */
  token: string;
  /** Which store answers the commands. */
  backend: "redis" | "memory";
  /** Stops the HTTP server and closes the store's connection. */
  close(): Promise<void>;
  /** Commands run so far (a pipeline or transaction counts each of its commands), as Upstash bills them. */
  commands(): number;
  /**
   * Make every Redis command fail (bridge answers HTTP 500 like Upstash does on errors) until set back to false;
   * lets tests simulate a Redis outage while the HTTP server stays up.
   */
  setUnavailable(down: boolean): void;
}

/** Arguments as they arrive in a JSON command: `["SET", "k", "v", "EX", 60]`. */
type Arg = string | number | boolean;
type Command = [string, ...Arg[]];

/** What a store answers for one command, before it is encoded for the wire. */
type Reply = string | Buffer | number | null | Error | Reply[];

/**
 * The outcome of one command. `fatal` marks a store that could not be reached (HTTP 500), as opposed to Redis
 * refusing the command (`{ error }` with 400, or inside a pipeline's array).
 */
type Outcome = { ok: true; reply: Reply } | Failure;
type Failure = { ok: false; error: string; fatal: boolean };

/** The store behind the bridge. */
interface Store {
  kind: "redis" | "memory";
  run(command: Command): Promise<Outcome>;
  /** Commands in order; other clients' commands may interleave. */
  pipeline(commands: Command[]): Promise<Outcome[]>;
  /** Commands in order with nothing interleaved; an Outcome instead of an array when the whole transaction failed. */
  transaction(commands: Command[]): Promise<Outcome[] | Failure>;
  close(): Promise<void>;
}

const CommandSchema = v.tupleWithRest(
  [v.pipe(v.string(), v.nonEmpty("command name is empty"))],
  v.union([v.string(), v.number(), v.boolean()]),
);
const BatchSchema = v.pipe(v.array(CommandSchema), v.nonEmpty("no commands given"));

/**
 * Commands refused before they reach the store: they wipe data that others share (FLUSH*), change or block the one
 * connection every client shares (SELECT, MULTI, SUBSCRIBE, blocking pops, ...), or administer the server. Upstash's
 * own REST API refuses the connection-state ones too; transactions go through /multi-exec instead.
 */
const REFUSED = new Set([
  "flushdb",
  "flushall",
  "shutdown",
  "debug",
  "config",
  "save",
  "bgsave",
  "bgrewriteaof",
  "replicaof",
  "slaveof",
  "failover",
  "sync",
  "psync",
  "monitor",
  "select",
  "swapdb",
  "auth",
  "hello",
  "client",
  "reset",
  "quit",
  "multi",
  "exec",
  "discard",
  "watch",
  "unwatch",
  "subscribe",
  "psubscribe",
  "ssubscribe",
  "unsubscribe",
  "punsubscribe",
  "sunsubscribe",
  "blpop",
  "brpop",
  "brpoplpush",
  "blmove",
  "blmpop",
  "bzpopmin",
  "bzpopmax",
  "bzmpop",
  "wait",
  "waitaof",
]);

/** Starts a bridge on 127.0.0.1; resolves once it listens and its store is ready. */
export async function startUpstashBridge(options: UpstashBridgeOptions): Promise<UpstashBridge> {
  if (options.token === "") throw new Error("startUpstashBridge: token must not be empty");
  const warn = options.onWarning ?? ((message: string) => console.warn(message));
  const store = upstashScripts(await openStore(options, warn));
  let unavailable = false;

  const app = new Hono();
  app.onError((error, c) => c.json({ error: `ERR bridge failure: ${error.message}` }, 500));
  app.notFound((c) => c.json({ error: "Not found" }, 404));
  app.use(async (c, next) => {
    if (c.req.header("authorization") !== `Bearer ${options.token}`) {
      return c.json({ error: "Unauthorized" }, 401);
    }
    if (unavailable) return c.json({ error: "ERR Redis is unavailable (simulated outage)" }, 500);
    await next();
  });
  // Upstash's limit for a request body is far larger than anything the project sends; this only stops runaway input.
  app.use(
    bodyLimit({ maxSize: 10 * 1024 * 1024, onError: (c) => c.json({ error: "ERR body too large" }, 413) }),
  );

  app.post("/", async (c) => {
    const parsed = await readBody(c.req.raw, CommandSchema);
    if (!parsed.ok) return c.json({ error: parsed.error }, 400);
    const outcome = await runChecked(store, parsed.value);
    if (!outcome.ok) return c.json({ error: outcome.error }, outcome.fatal ? 500 : 400);
    return c.json({ result: encodeReply(outcome.reply, wantsBase64(c.req.raw), true) });
  });

  app.post("/pipeline", async (c) => {
    const parsed = await readBody(c.req.raw, BatchSchema);
    if (!parsed.ok) return c.json({ error: parsed.error }, 400);
    // Refused commands answer in place; the rest still run, as each pipeline entry stands on its own.
    const refusals = parsed.value.map(refusal);
    const ran = await store.pipeline(parsed.value.filter((_, i) => refusals[i] === undefined));
    let next = 0;
    const outcomes = refusals.map((refused) => refused ?? ran[next++] ?? missingOutcome());
    const fatal = outcomes.find((o): o is Failure => !o.ok && o.fatal);
    if (fatal) return c.json({ error: fatal.error }, 500);
    return c.json(outcomes.map((o) => toEntry(o, wantsBase64(c.req.raw))));
  });

  app.post("/multi-exec", async (c) => {
    const parsed = await readBody(c.req.raw, BatchSchema);
    if (!parsed.ok) return c.json({ error: parsed.error }, 400);
    // Like Redis's EXECABORT: a transaction holding a refused command runs none of its commands.
    const refused = parsed.value.map(refusal).find((o) => o !== undefined);
    if (refused) return c.json({ error: `EXECABORT Transaction discarded: ${refused.error}` }, 400);
    const outcomes = await store.transaction(parsed.value);
    if (!Array.isArray(outcomes)) return c.json({ error: outcomes.error }, outcomes.fatal ? 500 : 400);
    return c.json(outcomes.map((o) => toEntry(o, wantsBase64(c.req.raw))));
  });

  // Path style, `GET /set/key/value/EX/100`, as Upstash's REST API also accepts it (handy with curl).
  app.get("/*", async (c) => {
    let segments: string[];
    try {
      segments = new URL(c.req.url).pathname.split("/").slice(1).map(decodeURIComponent);
    } catch {
      return c.json({ error: "ERR failed to parse command: malformed percent-encoding in path" }, 400);
    }
    const [name, ...args] = segments;
    if (name === undefined || name === "") return c.json({ error: "ERR no command given" }, 400);
    const outcome = await runChecked(store, [name, ...args]);
    if (!outcome.ok) return c.json({ error: outcome.error }, outcome.fatal ? 500 : 400);
    return c.json({ result: encodeReply(outcome.reply, wantsBase64(c.req.raw), true) });
  });

  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: "127.0.0.1" }, () => resolve(s));
    s.once("error", reject);
  }).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    token: options.token,
    backend: store.kind,
    commands: () => store.commands,
    setUnavailable(down) {
      unavailable = down;
    },
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // The SDK keeps connections alive; without this, close() would wait for them to time out.
          if ("closeAllConnections" in server) server.closeAllConnections();
        });
        await store.close();
      })();
      return closing;
    },
  };
}

/**
 * Upstash accepts the shebang flag `allow-key-locking` (@upstash/ratelimit's scripts declare it), which Redis 7.0
 * refuses ("Unexpected flag in script shebang"). The store never sees the flag; EVALSHA, SCRIPT LOAD and SCRIPT
 * EXISTS keep answering to the script's original SHA-1, the one clients compute. Also counts the commands run.
 * (A script the in-memory store runs loses its whole shebang line, which its Lua does not read.)
 */
function upstashScripts(store: Store): Store & { commands: number } {
  // SHA-1 of a script as sent -> SHA-1 of the script the store knows.
  const shas = new Map<string, string>();
  const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");
  /** The command as the store takes it, and the reply to give instead of the store's (SCRIPT LOAD's SHA-1). */
  const rewrite = (command: Command): { command: Command; reply?: Reply } => {
    const [name, ...args] = command;
    const lower = name.toLowerCase();
    const first = String(args[0] ?? "");
    const translated = (script: string) => {
      const stored = withoutUpstashFlags(script, store.kind === "memory");
      if (stored !== script) shas.set(sha1(script), sha1(stored));
      return stored;
    };
    if (lower === "eval" || lower === "eval_ro")
      return { command: [name, translated(first), ...args.slice(1)] };
    if (lower === "evalsha" || lower === "evalsha_ro") {
      const known = shas.get(first.toLowerCase());
      return { command: known ? [name, known, ...args.slice(1)] : command };
    }
    if (lower === "script" && first.toLowerCase() === "load" && args[1] !== undefined) {
      const script = String(args[1]);
      return { command: [name, args[0] ?? "", translated(script)], reply: sha1(script) };
    }
    if (lower === "script" && first.toLowerCase() === "exists")
      return {
        command: [
          name,
          args[0] ?? "",
          ...args.slice(1).map((sha) => shas.get(String(sha).toLowerCase()) ?? sha),
        ],
      };
    return { command };
  };
  const answered = (outcome: Outcome, reply: Reply | undefined): Outcome =>
    outcome.ok && reply !== undefined ? { ok: true, reply } : outcome;
  const wrapped = {
    kind: store.kind,
    commands: 0,
    async run(command: Command) {
      wrapped.commands++;
      const { command: stored, reply } = rewrite(command);
      return answered(await store.run(stored), reply);
    },
    async pipeline(commands: Command[]) {
      wrapped.commands += commands.length;
      const rewritten = commands.map(rewrite);
      const outcomes = await store.pipeline(rewritten.map((r) => r.command));
      return outcomes.map((outcome, i) => answered(outcome, rewritten[i]?.reply));
    },
    async transaction(commands: Command[]) {
      wrapped.commands += commands.length;
      const rewritten = commands.map(rewrite);
      const outcomes = await store.transaction(rewritten.map((r) => r.command));
      if (!Array.isArray(outcomes)) return outcomes;
      return outcomes.map((outcome, i) => answered(outcome, rewritten[i]?.reply));
    },
    close: () => store.close(),
  };
  return wrapped;
}

/**
 * `script` without Upstash's own shebang flag; unchanged when it has none. The in-memory store's Lua reads no
 * shebang at all (`whole`): there the line goes, leaving the line count as it was.
 */
function withoutUpstashFlags(script: string, whole: boolean): string {
  if (whole && script.startsWith("#!lua")) return script.replace(/^#!lua[^\n]*/, "");
  const shebang = /^#!lua[ \t]+flags=([^\s]*)/.exec(script);
  if (!shebang?.[1]?.split(",").includes(UPSTASH_ONLY_FLAG)) return script;
  const kept = shebang[1].split(",").filter((flag) => flag !== UPSTASH_ONLY_FLAG && flag !== "");
  return `#!lua${kept.length > 0 ? ` flags=${kept.join(",")}` : ""}${script.slice(shebang[0].length)}`;
}
const UPSTASH_ONLY_FLAG = "allow-key-locking";

/** Parses a JSON body against a schema; the error is a Redis-style message for a 400 reply. */
async function readBody<T>(
  request: Request,
  schema: v.GenericSchema<unknown, T>,
): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
  let json: unknown;
  try {
    json = JSON.parse(await request.text());
  } catch {
    return { ok: false, error: "ERR failed to parse command: body is not valid JSON" };
  }
  const result = v.safeParse(schema, json);
  if (!result.success) {
    return {
      ok: false,
      error: `ERR failed to parse command: ${v.summarize(result.issues).replaceAll("\n", "; ")}`,
    };
  }
  return { ok: true, value: result.output };
}

function wantsBase64(request: Request): boolean {
  return request.headers.get("upstash-encoding")?.toLowerCase() === "base64";
}

function refusal(command: Command): Failure | undefined {
  const name = command[0].toLowerCase();
  return REFUSED.has(name)
    ? { ok: false, error: `ERR command '${name}' is not allowed through the bridge`, fatal: false }
    : undefined;
}

async function runChecked(store: Store, command: Command): Promise<Outcome> {
  return refusal(command) ?? (await store.run(command));
}

function missingOutcome(): Failure {
  return { ok: false, error: "ERR bridge lost a pipeline reply", fatal: true };
}

function toEntry(outcome: Outcome, base64: boolean): { result: unknown } | { error: string } {
  return outcome.ok ? { result: encodeReply(outcome.reply, base64, true) } : { error: outcome.error };
}

/**
 * Turns a store reply into JSON. With base64 on, every string is base64 of its bytes, except a top-level "OK",
 * which the SDK passes through as is; inside arrays the SDK decodes every string, so "OK" is encoded there too.
 * Integers and nil stay as they are.
 */
function encodeReply(reply: Reply, base64: boolean, topLevel: boolean): unknown {
  if (reply === null || typeof reply === "number") return reply;
  if (Array.isArray(reply)) return reply.map((item) => encodeReply(item, base64, false));
  // An error nested in an array (e.g. from a Lua table) has no JSON form in Upstash's protocol; keep its text.
  const bytes = reply instanceof Error ? Buffer.from(reply.message) : Buffer.from(reply);
  if (!base64) return bytes.toString("utf8");
  if (topLevel && bytes.equals(OK)) return "OK";
  return bytes.toString("base64");
}
const OK = Buffer.from("OK");

async function openStore(options: UpstashBridgeOptions, warn: (message: string) => void): Promise<Store> {
  const backend = options.backend ?? "auto";
  if (backend === "memory") return memoryStore();
  const url = options.redisUrl ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  try {
    // A refused connection fails at once; the ceiling only matters for a host that never answers.
    return await redisStore(url, options.connectTimeoutMs ?? 5_000);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const message = `Redis is not reachable at ${redactUrl(url)} (${reason})`;
    if (backend === "redis") throw new Error(message, { cause: error });
    warn(`upstash-bridge: ${message}; using the in-memory store instead (data is lost on close).`);
    return memoryStore();
  }
}

/** The URL without its password, so it can go into errors and logs. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable REDIS_URL)";
  }
}

async function redisStore(url: string, connectTimeoutMs: number): Promise<Store> {
  let ready = false;
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    // Fail a command fast when Redis is gone, so the bridge answers 500 instead of hanging the SDK call.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: 5_000,
    // No retries before the first connection (the caller decides what to do); reconnect after a later outage.
    retryStrategy: (times) => (ready ? Math.min(times * 100, 2_000) : null),
  });
  // Connection errors surface as failed commands; without a listener ioredis would also log each one.
  let lastError: unknown;
  redis.on("error", (error: unknown) => {
    lastError = error;
  });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    // connect() only says "Connection is closed."; the socket error before it says why (ECONNREFUSED, ...).
    throw lastError ?? error;
  }
  ready = true;

  const outcomeOf = (error: unknown): Failure =>
    error instanceof ReplyError
      ? { ok: false, error: (error as Error).message, fatal: false }
      : { ok: false, error: `ERR Redis connection failed: ${messageOf(error)}`, fatal: true };
  const settle = (entries: [Error | null, unknown][] | null): Outcome[] =>
    (entries ?? []).map(([error, value]) => (error ? outcomeOf(error) : { ok: true, reply: value as Reply }));

  return {
    kind: "redis",
    async run([name, ...args]) {
      try {
        // callBuffer keeps values as raw bytes, so base64 replies are exact even for non-UTF-8 data.
        return { ok: true, reply: (await redis.callBuffer(name, ...args.map(String))) as Reply };
      } catch (error) {
        return outcomeOf(error);
      }
    },
    async pipeline(commands) {
      if (commands.length === 0) return [];
      const batch = redis.pipeline();
      for (const [name, ...args] of commands) batch.callBuffer(name, ...args.map(String));
      try {
        return settle(await batch.exec());
      } catch (error) {
        return commands.map(() => outcomeOf(error));
      }
    },
    async transaction(commands) {
      const batch = redis.multi();
      for (const [name, ...args] of commands) batch.callBuffer(name, ...args.map(String));
      try {
        return settle(await batch.exec());
      } catch (error) {
        const failed = outcomeOf(error);
        if (failed.fatal) return failed;
        // EXECABORT alone does not say which queued command Redis refused; ioredis keeps those errors.
        const queued = Reflect.get(error as object, "previousErrors") as unknown;
        const cause = Array.isArray(queued) && queued[0] instanceof Error ? `: ${queued[0].message}` : "";
        return { ...failed, error: `${failed.error}${cause}` };
      }
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** The part of ioredis-mock's client the bridge uses; it ships no type declarations. */
interface MockClient {
  get(key: string): Promise<unknown>;
  eval(script: string, ...args: Arg[]): Promise<unknown>;
  flushall(): Promise<unknown>;
  quit(): Promise<unknown>;
}
type MockConstructor = new (options: { host: string; lazyConnect: boolean }) => MockClient;

/** Names ioredis knows as Redis commands; only these are looked up as methods on the mock. */
const BUILTIN_COMMANDS = new Set(Redis.prototype.getBuiltinCommands());

function memoryStore(): Store {
  const RedisMock: MockConstructor = createRequire(import.meta.url)("ioredis-mock");
  // ioredis-mock shares data between clients of the same host:port; a unique host gives this bridge its own store.
  const mock = new RedisMock({ host: `upstash-bridge-${randomUUID()}`, lazyConnect: false });
  // Scripts registered with SCRIPT LOAD, which ioredis-mock lacks; EVALSHA looks here first. Key: SHA-1 hex.
  const loaded = new Map<string, string>();

  // Every command runs alone, so a /multi-exec batch is as isolated as a Redis transaction.
  let tail: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const result = tail.then(work, work);
    tail = result.catch(() => undefined);
    return result;
  };

  const script = async (args: Arg[]): Promise<unknown> => {
    const [sub, ...rest] = args.map(String);
    switch (sub?.toLowerCase()) {
      case "load": {
        const source = rest[0] ?? "";
        const sha = createHash("sha1").update(source).digest("hex");
        loaded.set(sha, source);
        return sha;
      }
      case "exists":
        return rest.map((sha) => (loaded.has(sha.toLowerCase()) ? 1 : 0));
      case "flush":
        loaded.clear();
        return "OK";
      default:
        throw new Error(`ERR unknown subcommand '${sub ?? ""}' for 'script' in the in-memory store`);
    }
  };

  const methodFor = (lower: string): ((...args: Arg[]) => Promise<unknown>) | undefined => {
    const method: unknown = BUILTIN_COMMANDS.has(lower) ? Reflect.get(mock, lower) : undefined;
    return typeof method === "function" ? (...args) => method.apply(mock, args) : undefined;
  };
  const unknownCommand = (name: string): Failure => ({
    ok: false,
    error: `ERR unknown command '${name}' (in-memory store)`,
    fatal: false,
  });

  const call = async ([name, ...args]: Command): Promise<Outcome> => {
    const lower = name.toLowerCase();
    try {
      if (lower === "script") return { ok: true, reply: toReply(await script(args)) };
      const source = lower === "evalsha" ? loaded.get(String(args[0]).toLowerCase()) : undefined;
      if (source !== undefined)
        return { ok: true, reply: toReply(await mock.eval(source, ...args.slice(1))) };
      if (COUNTERS.has(lower)) await requireInteger(mock, args[0]);
      const method = methodFor(lower);
      if (method === undefined) return unknownCommand(name);
      return {
        ok: true,
        reply: toReply(await method(...(lower === "set" ? mockSetArgs(args) : args))),
      };
    } catch (error) {
      return { ok: false, error: redisStyle(messageOf(error)), fatal: false };
    }
  };
  const sequence = async (commands: Command[]): Promise<Outcome[]> => {
    const outcomes: Outcome[] = [];
    for (const command of commands) outcomes.push(await call(command));
    return outcomes;
  };

  return {
    kind: "memory",
    run: (command) => exclusive(() => call(command)),
    pipeline: (commands) => exclusive(() => sequence(commands)),
    transaction: (commands) => {
      // Redis refuses to queue an unknown command and then discards the whole transaction (EXECABORT).
      const unknown = commands.find(([name]) => {
        const lower = name.toLowerCase();
        return lower !== "script" && methodFor(lower) === undefined;
      });
      if (unknown) {
        const failure = unknownCommand(unknown[0]);
        return Promise.resolve({ ...failure, error: `EXECABORT Transaction discarded: ${failure.error}` });
      }
      return exclusive(() => sequence(commands));
    },
    async close() {
      // The mock keeps its data in a process-wide map; emptying it frees the memory of this bridge's store.
      await exclusive(async () => {
        await mock.flushall();
        await mock.quit();
      });
    },
  };
}

/**
 * SET is the command the project leans on, and ioredis-mock reads its options only in upper case and in pairs
 * (`GET PX 1000` loses the PX), while Redis takes them in any case and order and the SDK sends `nx`, `get`, `px`.
 * Puts the expiry pair first and upper-cases the keywords; after key and value, SET has no free-text arguments.
 */
function mockSetArgs(args: Arg[]): Arg[] {
  const [key, value, ...options] = args;
  if (key === undefined || value === undefined) return args;
  const expiry: Arg[] = [];
  const flags: Arg[] = [];
  for (let i = 0; i < options.length; i++) {
    const word = String(options[i]).toUpperCase();
    if (EXPIRY_OPTIONS.has(word)) {
      expiry.push(word, options[i + 1] ?? "");
      i++;
    } else {
      flags.push(word);
    }
  }
  return [key, value, ...expiry, ...flags];
}
const EXPIRY_OPTIONS = new Set(["EX", "PX", "EXAT", "PXAT"]);

/** Commands that add to an integer in a string value. */
const COUNTERS = new Set(["incr", "incrby", "decr", "decrby"]);

/** ioredis-mock counts on from NaN where Redis refuses a value that is not an integer; refuse it the same way. */
async function requireInteger(mock: MockClient, key: Arg | undefined): Promise<void> {
  if (key === undefined) return;
  const current = await mock.get(String(key));
  if (current !== null && current !== undefined && !/^-?\d+$/.test(String(current))) {
    throw new Error("ERR value is not an integer or out of range");
  }
}

/** Maps ioredis-mock's JavaScript answers to what Redis would send (Lua booleans, hashes as flat arrays). */
function toReply(value: unknown): Reply {
  if (value === null || value === undefined || value === false) return null;
  if (value === true) return 1;
  if (typeof value === "string" || typeof value === "number" || Buffer.isBuffer(value)) return value;
  if (typeof value === "bigint") return String(value);
  if (Array.isArray(value)) return value.map(toReply);
  if (value instanceof Error) return value;
  if (typeof value === "object") return Object.entries(value).flatMap(([k, v]) => [k, toReply(v)]);
  return String(value);
}

/** Redis error replies start with a code ("ERR", "WRONGTYPE", "NOSCRIPT"); the mock's messages often do not. */
function redisStyle(message: string): string {
  if (message.startsWith("Unsupported command")) return `ERR unknown command (in-memory store): ${message}`;
  return /^[A-Z][A-Z_]+ /.test(message) ? message : `ERR ${message}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
