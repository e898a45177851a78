/** Runs `netlify dev` offline as a child process, for the local shop and the end-to-end tests. */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { buildFunctions } from "../src/site/functions.ts";

export interface NetlifyDevOptions {
  /** Port of the shop (Netlify's proxy). */
  port: number;
  /** Extra environment for the functions; wins over `.env`, as netlify dev lets the process environment win. */
  env?: Record<string, string>;
  /** Project root; default the repository this file belongs to. */
  cwd?: string;
  /** Static files to serve instead of netlify.toml's `[dev] publish`. */
  siteDir?: string;
  /** Receives netlify dev's output lines (it prints function logs there too). */
  onOutput?: (line: string) => void;
  /** Give up waiting for readiness after this long. Milliseconds. */
  readyTimeoutMs?: number;
}

export interface NetlifyDev {
  url: string;
  /** Stops netlify dev and everything it started (its whole process group). */
  stop(): Promise<void>;
}

const root = fileURLToPath(new URL("../", import.meta.url));

/**
 * Starts `netlify dev --offline` and resolves once it serves requests. The hidden
 * `--internal-disable-edge-functions` flag keeps it from downloading Deno, so it makes no outbound connections.
 * The functions are bundled first, so every one of them answers as soon as netlify dev is ready; netlify.toml's dev
 * command then rebuilds a function whenever a file it imports changes, and netlify dev reloads it.
 */
export async function startNetlifyDev(options: NetlifyDevOptions): Promise<NetlifyDev> {
  const cwd = options.cwd ?? root;
  await buildFunctions({ root: cwd });
  const child = spawn(
    process.execPath,
    [
      `${root}node_modules/netlify-cli/bin/run.js`,
      "dev",
      "--offline",
      "--internal-disable-edge-functions",
      "--no-open",
      "--port",
      String(options.port),
      ...(options.siteDir ? ["--dir", options.siteDir] : []),
    ],
    {
      cwd,
      // Its own process group, so stop() reaches the static server and function runtimes it spawns.
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        CI: "1",
        NETLIFY_TELEMETRY_DISABLED: "1",
        BROWSER: "none",
        // netlify.toml's dev command builds dist/ and watches; a caller serving its own site needs neither.
        ...(options.siteDir && { LINKSHOP_STACK_SITE: options.siteDir }),
        ...options.env,
      },
    },
  );
  const output: string[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    const onLine = (line: string) => {
      output.push(line);
      if (output.length > 200) output.shift();
      options.onOutput?.(line);
      if (/Local dev server ready/.test(line)) resolve();
    };
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = "";
      stream?.setEncoding("utf8");
      stream?.on("data", (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split("\n");
        buffered = lines.pop() ?? "";
        for (const line of lines) onLine(line);
      });
    }
    child.once("exit", (code) =>
      reject(new Error(`netlify dev exited (${code}) before it was ready:\n${output.slice(-30).join("\n")}`)),
    );
  });
  const timeoutMs = options.readyTimeoutMs ?? 180_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`netlify dev was not ready after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([ready, timeout]);
  } catch (error) {
    await stopGroup(child);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return { url: `http://localhost:${options.port}`, stop: () => stopGroup(child) };
}

async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = once(child, "exit");
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return; // already gone
  }
  const timer = setTimeout(() => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }, 5_000);
  await exited;
  clearTimeout(timer);
}
