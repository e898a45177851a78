/** Browser test support: finds Debian's Chromium, serves a built site like Netlify would, runs axe, saves screenshots. */
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { serve } from "@hono/node-server";
import { serveStatic } from "@hono/node-server/serve-static";
import { Hono } from "hono";
import { type Browser, chromium, type Page } from "playwright-core";

const CANDIDATES = [
  process.env.CHROMIUM_PATH,
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
];

/** Path of a Chromium binary, or undefined when none is installed. */
export const chromiumPath = CANDIDATES.find(
  (path): path is string => Boolean(path) && existsSync(path as string),
);

/**
 * Whether to skip the browser suites: only on a developer machine without Chromium. In CI a missing browser is a
 * failure, so the suites run and `launchBrowser` throws.
 */
export const skipBrowserTests = chromiumPath === undefined && !process.env.CI;
if (skipBrowserTests) {
  console.warn(
    "Skipping browser tests: no Chromium found (install Debian's `chromium` or set CHROMIUM_PATH). They run in CI.",
  );
}

/** Launches headless Chromium with flags that work as root in a container and never reach the network. */
export async function launchBrowser(): Promise<Browser> {
  if (!chromiumPath) {
    throw new Error(
      `Chromium is required in CI but none was found (looked for ${CANDIDATES.filter(Boolean).join(", ")})`,
    );
  }
  return chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

/** A running local web server. */
export interface LocalServer {
  url: string;
  close(): Promise<void>;
}

/** Reads Netlify's `_headers` file into (path pattern, headers) rules; `*` in a pattern matches anything. */
async function readHeaderRules(dir: string): Promise<{ pattern: RegExp; headers: [string, string][] }[]> {
  const source = await readFile(join(dir, "_headers"), "utf8").catch(() => "");
  const rules: { pattern: RegExp; headers: [string, string][] }[] = [];
  for (const line of source.split("\n")) {
    if (line.trim() === "" || line.trim().startsWith("#")) continue;
    if (!/^\s/.test(line)) {
      const escaped = line
        .trim()
        .replace(/[.+?^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*");
      rules.push({ pattern: new RegExp(`^${escaped}$`), headers: [] });
      continue;
    }
    const separator = line.indexOf(":");
    rules.at(-1)?.headers.push([line.slice(0, separator).trim(), line.slice(separator + 1).trim()]);
  }
  return rules;
}

/**
 * Serves `dir` as Netlify would (directory index, `_headers` applied, so the CSP is enforced in tests), with `api`
 * mounted first for routes such as /api/order-status.
 */
export async function serveSite(dir: string, api?: Hono): Promise<LocalServer> {
  const root = resolve(dir);
  const app = new Hono();
  app.use(async (c, next) => {
    await next();
    // Read per request: the site may be (re)built after the server started.
    for (const rule of await readHeaderRules(root)) {
      if (rule.pattern.test(c.req.path))
        for (const [name, value] of rule.headers) c.res.headers.set(name, value);
    }
  });
  if (api) app.route("/", api);
  app.use(serveStatic({ root }));
  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise<void>((done) => server.once("listening", done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** One axe-core finding, trimmed to what a failure message needs. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

const AXE_SOURCE = resolve("node_modules/axe-core/axe.min.js");

/** Injects axe-core into the page and returns its violations (WCAG 2.x A/AA and best practices). */
export async function runAxe(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ path: AXE_SOURCE });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } }).axe;
    const result = await axe.run();
    return (
      result.violations as {
        id: string;
        impact: string | null;
        help: string;
        nodes: { target: string[] }[];
      }[]
    ).map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      targets: violation.nodes.map((node) => node.target.join(" ")),
    }));
  });
}

/** Saves a full-page screenshot to test-results/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = resolve("test-results/screenshots");
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}
