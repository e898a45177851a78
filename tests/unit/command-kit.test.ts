/**
 * The command kit: help, usage errors, the exit-code contract, the one error printer, the configuration precedence
 * (environment > running npm start > .env) and the live-mode confirmation, through small probe commands and the
 * real catalog:sync.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import type { ParseArgsOptionsConfig } from "node:util";
import Stripe from "stripe";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { catalogSyncCommand } from "../../src/commands/catalog-sync/command.ts";
import {
  CliError,
  type Command,
  defineCommand,
  MAX_SHOWN,
  requireConsent,
  runCommand,
  type RunOptions,
  UsageError,
} from "../../src/commands/kit.ts";
import { terminalPrompt } from "../../src/commands/io.ts";
import { writeStackRecord } from "../../src/commands/stack-record.ts";
import { ConfigError } from "../../src/config.ts";
import { scriptedIo } from "../support/io.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "linkshop-kit-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A command that prints the variables it was asked for, after doing what `act` says. */
function probe(act: () => void = () => {}): Command<{ name: { type: "string"; multiple: true } }> & {
  runs: number;
} {
  const command = {
    runs: 0,
    ...defineCommand({
      usage: "Usage: probe -- [--name <variable>]...\n\nPrints variables.",
      options: { name: { type: "string", multiple: true } },
      async run({ values, env, config, io }) {
        command.runs++;
        act();
        for (const name of values.name ?? []) io.out(`${name}=${env[name] ?? "(unset)"}`);
        io.out(`sources: ${config.sources.join(" > ")}`);
        return 0;
      },
    }),
  };
  return command;
}

async function run<O extends ParseArgsOptionsConfig>(
  command: Command<O>,
  argv: string[],
  options: RunOptions = {},
) {
  const recorded = scriptedIo();
  const code = await runCommand(command, { argv, env: {}, io: recorded.io, cwd: dir, ...options });
  return { code, ...recorded };
}

describe("help and usage", () => {
  it.each([["--help"], ["-h"]])("%s prints the usage and the exit codes to stdout, exit 0", async (flag) => {
    const command = probe();
    const result = await run(command, [flag]);
    expect(result.code).toBe(0);
    expect(result.out.join("\n")).toMatch(/^Usage: probe/);
    expect(result.out.join("\n")).toContain("Exit codes: 0 done; 1 a check or action failed");
    expect(result.out.join("\n")).toContain("the environment, then a running npm start, then .env");
    expect(result.err).toEqual([]);
    expect(command.runs).toBe(0);
  });

  it("an unknown option prints the message and the usage to stderr, exit 2, without running", async () => {
    const command = probe();
    const result = await run(command, ["--nope"]);
    expect(result.code).toBe(2);
    expect(result.out).toEqual([]);
    expect(result.err.join("\n")).toMatch(/^Unknown option '--nope'[\s\S]*\n\nUsage: probe/);
    expect(command.runs).toBe(0);
  });

  it("refuses positional arguments a command does not take", async () => {
    const result = await run(probe(), ["extra"]);
    expect(result.code).toBe(2);
    expect(result.err.join("\n")).toContain("Unexpected argument 'extra'");
  });

  it("a UsageError from the command comes with the usage, exit 2", async () => {
    const result = await run(
      probe(() => {
        throw new UsageError("--name must be given twice");
      }),
      [],
    );
    expect(result.code).toBe(2);
    expect(result.err.join("\n")).toMatch(/^--name must be given twice\n\nUsage: probe/);
  });
});

describe("one exit-code contract and one error printer", () => {
  it.each([
    ["a CliError", new CliError("The webhook refused it."), 1, "The webhook refused it."],
    ["a CliError with exit 2", new CliError("Not a port: x", 2), 2, "Not a port: x"],
    [
      "a configuration error",
      new ConfigError(["STRIPE_SECRET_KEY"], new Map([["EMAIL_FROM", "must be an address"]])),
      2,
      "Missing STRIPE_SECRET_KEY; Malformed EMAIL_FROM (must be an address) (see .env.example)",
    ],
    ["any other error", new TypeError("boom"), 1, "boom"],
    [
      "a Stripe error",
      new Stripe.errors.StripeInvalidRequestError({
        message: "No such price: 'price_123'",
        type: "invalid_request_error",
        statusCode: 404,
      }),
      1,
      "Stripe refused the request (HTTP 404): No such price: 'price_123'",
    ],
  ])("%s: one line, no stack trace", async (_, error, code, message) => {
    const result = await run(
      probe(() => {
        throw error;
      }),
      [],
    );
    expect(result.code).toBe(code);
    expect(result.err).toEqual([message]);
  });
});

describe("configuration: the environment, then a running npm start, then .env", () => {
  async function project(stackPid = process.pid) {
    await writeFile(join(dir, ".env"), "A=dotenv\nB=dotenv\nC=dotenv\nD=dotenv\n");
    await mkdir(join(dir, ".linkshop"));
    await writeStackRecord(join(dir, ".linkshop"), {
      pid: stackPid,
      shopUrl: "http://localhost:8888",
      functionEnv: { B: "stack", C: "stack", D: "stack" },
    });
  }
  const names = ["--name", "A", "--name", "B", "--name", "C", "--name", "D", "--name", "E"];

  it("takes each variable from the strongest layer that sets it; an empty one in the environment is unset", async () => {
    await project();
    const result = await run(probe(), names, { env: { C: "env", D: "  ", E: "env" } });
    expect(result.out).toEqual([
      "A=dotenv",
      "B=stack",
      "C=env",
      "D=stack",
      "E=env",
      "sources: the environment > the running npm start (http://localhost:8888) > .env",
    ]);
  });

  it("ignores the record of an npm start that has ended", async () => {
    // A pid far above Linux's default pid_max: no process has it.
    await project(2 ** 22 + 12345);
    const result = await run(probe(), names, { env: { C: "env" } });
    expect(result.out).toEqual([
      "A=dotenv",
      "B=dotenv",
      "C=env",
      "D=dotenv",
      "E=(unset)",
      "sources: the environment > .env",
    ]);
  });
});

describe("catalog:sync reads its configuration through the kit", () => {
  /** Records every client the command asks for; the client itself lists nothing (an empty account). */
  function recordingStripe() {
    const keys: string[] = [];
    const empty = () => ({ async *[Symbol.asyncIterator]() {} });
    const stripe = (access: { secretKey: string }) => {
      keys.push(access.secretKey);
      return {
        products: { list: empty },
        prices: { list: empty },
        paymentLinks: { list: empty, listLineItems: empty },
      } as unknown as Stripe;
    };
    return { keys, stripe };
  }
  async function withCatalog() {
    await writeFile(
      join(dir, "catalog.json"),
      JSON.stringify({
        shop: { name: "Kit Shop", currency: "usd", supportEmail: "help@shop.example" },
        products: [{ id: "mug", name: "Mug", description: "A mug.", price: { amount: 1200 } }],
      }),
    );
  }

  it("without STRIPE_SECRET_KEY anywhere: exit 2 naming it, and no client", async () => {
    await withCatalog();
    const stripe = recordingStripe();
    const result = await run(catalogSyncCommand, ["--dry-run"], { connect: { stripe: stripe.stripe } });
    expect(result.code).toBe(2);
    expect(result.err).toEqual(["Missing STRIPE_SECRET_KEY (see .env.example)"]);
    expect(stripe.keys).toEqual([]);
  });

  it("names every malformed Stripe variable at once", async () => {
    const result = await run(catalogSyncCommand, ["--dry-run"], {
      env: { STRIPE_SECRET_KEY: "pk_test_publishable", STRIPE_API_BASE: "ftp://x" },
    });
    expect(result.code).toBe(2);
    expect(result.err.join("\n")).toContain("Malformed STRIPE_SECRET_KEY (must start with sk_test_");
    expect(result.err.join("\n")).toContain("STRIPE_API_BASE (must be an http(s) URL)");
    expect(result.err.join("\n")).not.toContain("pk_test_publishable");
  });

  it("takes the key from .env, and a running npm start's over it", async () => {
    await withCatalog();
    await writeFile(join(dir, ".env"), "STRIPE_SECRET_KEY=sk_test_from_dotenv\n");
    const fromDotenv = recordingStripe();
    const first = await run(catalogSyncCommand, ["--dry-run"], { connect: { stripe: fromDotenv.stripe } });
    expect(first.code, first.text()).toBe(0);
    expect(fromDotenv.keys).toEqual(["sk_test_from_dotenv"]);
    expect(first.out.join("\n")).toContain("Dry run: 3 change(s) planned");

    await mkdir(join(dir, ".linkshop"));
    await writeStackRecord(join(dir, ".linkshop"), {
      pid: process.pid,
      shopUrl: "http://localhost:8888",
      functionEnv: { STRIPE_SECRET_KEY: "sk_test_from_stack" },
    });
    const fromStack = recordingStripe();
    expect(
      (await run(catalogSyncCommand, ["--dry-run"], { connect: { stripe: fromStack.stripe } })).code,
    ).toBe(0);
    expect(fromStack.keys).toEqual(["sk_test_from_stack"]);
  });

  it("a live key from .env, without a terminal and without --live: exit 2 before any client exists", async () => {
    await withCatalog();
    await writeFile(join(dir, ".env"), "STRIPE_SECRET_KEY=sk_live_from_dotenv\n");
    const stripe = recordingStripe();
    const result = await run(catalogSyncCommand, ["--site-url", "https://shop.example"], {
      connect: { stripe: stripe.stripe },
    });
    expect(result.code).toBe(2);
    expect(result.err.join("\n")).toContain("Refusing to sync the catalog without a confirmation");
    expect(result.err.join("\n")).toContain("Pass --live to confirm (--dry-run shows what would happen)");
    expect(result.err.join("\n")).not.toContain("sk_live_from_dotenv");
    expect(stripe.keys).toEqual([]);
  });
});

describe("requireConsent", () => {
  const live = { reason: "the Stripe key is LIVE: this emails real customers", flag: "--live" };

  it("asks nothing when no rule applies or every flag was given", async () => {
    const { io, questions } = scriptedIo([]);
    await requireConsent(io, [], { action: "resend" }).confirm({ summary: "x" });
    await requireConsent(io, [{ ...live, given: true }], { action: "resend" }).confirm({ summary: "x" });
    expect(questions).toEqual([]);
  });

  it("without a terminal, refuses at once with exit 2, naming the reasons and the flags", () => {
    const { io } = scriptedIo();
    const long = { reason: "--since reaches back 30 days", flag: "--yes", given: false };
    let error: unknown;
    try {
      requireConsent(io, [{ ...live, given: false }, long], { action: "reconcile", preview: "--dry-run" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(2);
    expect((error as CliError).message).toBe(
      "Refusing to reconcile without a confirmation: the Stripe key is LIVE: this emails real customers; " +
        "--since reaches back 30 days. Nothing was done. Pass --live --yes to confirm (--dry-run shows what " +
        "would happen), or run it in a terminal to be asked.",
    );
  });

  it("on a terminal, shows the reason, the summary and the details, then asks once", async () => {
    const { io, err, questions } = scriptedIo([true]);
    const consent = requireConsent(io, [{ ...live, given: false }], { action: "resend" });
    expect(consent.pending).toBe(true);
    await consent.confirm({ summary: "Resend 1 receipt:", details: ["7KQ4-M9PX to j***@example.com"] });
    expect(err).toEqual([
      "Careful: the Stripe key is LIVE: this emails real customers.",
      "Resend 1 receipt:",
      "  7KQ4-M9PX to j***@example.com",
    ]);
    expect(questions).toEqual(["Go ahead?"]);
  });

  it("a no stops the command with exit 1", async () => {
    const { io } = scriptedIo([false]);
    const consent = requireConsent(io, [{ ...live, given: false }], { action: "resend" });
    await expect(consent.confirm({ summary: "x" })).rejects.toMatchObject({
      exitCode: 1,
      message: "Answered no: nothing was done.",
    });
  });

  it(`shows at most ${MAX_SHOWN} details and counts the rest`, async () => {
    const { io, err } = scriptedIo([true]);
    const details = Array.from({ length: MAX_SHOWN + 5 }, (_, i) => `order ${i}`);
    await requireConsent(io, [{ ...live, given: false }], { action: "x" }).confirm({ summary: "s", details });
    expect(err.filter((line) => line.startsWith("  order "))).toHaveLength(MAX_SHOWN);
    expect(err.at(-1)).toBe("  ... and 5 more");
  });
});

describe("the terminal prompt", () => {
  async function answer(typed: string | null) {
    const input = new PassThrough();
    const output = new PassThrough();
    let shown = "";
    output.on("data", (chunk: Buffer) => (shown += chunk.toString()));
    const asked = terminalPrompt(input, output)("Go ahead?");
    if (typed === null) input.end();
    else input.write(typed);
    return { yes: await asked, shown };
  }

  it.each([
    ["y\n", true],
    ["YES\n", true],
    [" yes \n", true],
    ["\n", false],
    ["n\n", false],
    ["yep\n", false],
  ])("%j -> %s, after showing the question with its default", async (typed, expected) => {
    const { yes, shown } = await answer(typed);
    expect(yes).toBe(expected);
    expect(shown).toBe("Go ahead? [y/N] ");
  });

  it("a closed input (Ctrl-D) is a no, not a hang", async () => {
    expect((await answer(null)).yes).toBe(false);
  });
});
