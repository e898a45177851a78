/** The real Stripe CLI (`npm install --no-save @stripe/cli`), run against local servers with no account. */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const require = createRequire(import.meta.url);

/**
 * Path of the CLI's binary, or null when it is not installed. The binary itself, not the npm shim: the shim runs it
 * with spawnSync, so a signal sent to the shim would not reach `stripe listen`.
 */
export function findStripeCli(): string | null {
  try {
    const wrapper = dirname(require.resolve("@stripe/cli/package.json"));
    const platforms = JSON.parse(readFileSync(join(wrapper, "platforms.json"), "utf8")) as Record<
      string,
      { pkg: string; bin: string }
    >;
    const platform = platforms[`${process.platform}-${process.arch}`];
    if (!platform) return null;
    return join(dirname(require.resolve(`${platform.pkg}/package.json`)), "bin", platform.bin);
  } catch {
    return null;
  }
}

/** A home of its own for the CLI (its config and logs), and no telemetry or update checks over the network. */
export interface CliEnv {
  env: NodeJS.ProcessEnv;
  remove(): Promise<void>;
}

export async function cliEnv(): Promise<CliEnv> {
  const home = await mkdtemp(join(tmpdir(), "linkshop-stripe-cli-"));
  return {
    env: {
      PATH: process.env.PATH,
      HOME: home,
      XDG_CONFIG_HOME: join(home, ".config"),
      STRIPE_CLI_TELEMETRY_OPTOUT: "1",
    },
    remove: () => rm(home, { recursive: true, force: true }),
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one CLI command to completion (e.g. `trigger`), never throwing on a non-zero exit. */
export async function runCli(
  cli: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 120_000,
): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(cli, args, { env, timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof failed.code === "number" ? failed.code : -1,
      stdout: failed.stdout ?? "",
      stderr: failed.stderr ?? String(error),
    };
  }
}

/** A running `stripe listen`: everything it printed so far, and a way to stop it like Ctrl-C does. */
export interface Listener {
  output(): string;
  /** Resolves once the output matches, or rejects after `timeoutMs` with what was printed. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends SIGINT and resolves with the exit code. */
  stop(): Promise<number | null>;
}

export function startListen(cli: string, args: string[], env: NodeJS.ProcessEnv): Listener {
  const child: ChildProcess = spawn(cli, ["listen", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  const waiters = new Set<() => void>();
  const append = (chunk: Buffer) => {
    text += chunk.toString("utf8");
    for (const check of waiters) check();
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let gone = false;
  void exited.then(() => {
    gone = true;
    for (const check of waiters) check();
  });
  return {
    output: () => text,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(text)) {
            done();
            resolve();
          } else if (gone) {
            done();
            reject(new Error(`stripe listen exited before printing ${pattern}:\n${text}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`stripe listen did not print ${pattern} within ${timeoutMs} ms:\n${text}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (!gone) child.kill("SIGINT");
      return exited;
    },
  };
}
