/**
 * Browser test support: finds Debian's Chromium, serves a built site like Netlify would (and both at once for a
 * suite), runs axe, saves screenshots.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { getRequestListener } from "@hono/node-server";
import { serveStatic } from "@hono/node-server/serve-static";
import { Hono } from "hono";
import { type Browser, chromium, type Page } from "playwright-core";
import { parse as parseToml } from "smol-toml";
import { buildSite } from "../../src/site/build.ts";
import { type LocalServer, listenLocally } from "./http.ts";

export type { LocalServer } from "./http.ts";

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

/** A header rule of Netlify's: the headers for paths matching `pattern`. */
interface HeaderRule {
  pattern: RegExp;
  headers: [string, string][];
}

/** A Netlify path pattern (`/*`, `/assets/*`) as a regular expression; `*` matches anything. */
function pathPattern(path: string): RegExp {
  const escaped = path
    .trim()
    .replace(/[.+?^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}

/** netlify.toml's `[[headers]]`: where the site's response headers are set (the build writes no `_headers`). */
async function tomlHeaderRules(): Promise<HeaderRule[]> {
  const config = parseToml(await readFile(NETLIFY_TOML, "utf8")) as {
    headers?: { for: string; values: Record<string, string> }[];
  };
  return (config.headers ?? []).map((rule) => ({
    pattern: pathPattern(rule.for),
    headers: Object.entries(rule.values),
  }));
}

/** A `_headers` file in `dir`, which Netlify applies as well, when there is one. */
async function fileHeaderRules(dir: string): Promise<HeaderRule[]> {
  const source = await readFile(join(dir, "_headers"), "utf8").catch(() => "");
  const rules: HeaderRule[] = [];
  for (const line of source.split("\n")) {
    if (line.trim() === "" || line.trim().startsWith("#")) continue;
    if (!/^\s/.test(line)) {
      rules.push({ pattern: pathPattern(line), headers: [] });
      continue;
    }
    const separator = line.indexOf(":");
    rules.at(-1)?.headers.push([line.slice(0, separator).trim(), line.slice(separator + 1).trim()]);
  }
  return rules;
}

const NETLIFY_TOML = resolve("netlify.toml");

/**
 * Serves `dir` as Netlify would (directory index, the headers of netlify.toml and of a `_headers` file applied, so the
 * CSP is enforced in tests), with `api` mounted first for routes such as /api/order-status.
 */
export async function serveSite(dir: string, api?: Hono): Promise<LocalServer> {
  const root = resolve(dir);
  const app = new Hono();
  app.use(async (c, next) => {
    await next();
    // Read per request: the site may be (re)built after the server started.
    for (const rule of [...(await tomlHeaderRules()), ...(await fileHeaderRules(root))]) {
      if (rule.pattern.test(c.req.path))
        for (const [name, value] of rule.headers) c.res.headers.set(name, value);
    }
  });
  if (api) app.route("/", api);
  app.use(serveStatic({ root }));
  const server: Server = createServer(getRequestListener(app.fetch));
  return listenLocally(server);
}

/** The built site served on a local port, and a Chromium to look at it: what a browser suite starts with. */
export interface SiteInBrowser {
  site: LocalServer;
  browser: Browser;
  /** Closes the browser and the server and removes the built site. */
  close(): Promise<void>;
}

/**
 * Builds the site of `catalog` (default: the project's catalog.json) into a temporary folder with the Payment Links
 * `links(siteUrl)` gives (without `links`, none: every product "Unavailable"), serves it as `serveSite` does with
 * `api` mounted first, and launches Chromium.
 */
export async function siteInBrowser(
  options: {
    api?: Hono;
    catalog?: string;
    links?: (siteUrl: string) => Promise<Record<string, string>>;
  } = {},
): Promise<SiteInBrowser> {
  const dir = await mkdtemp(join(tmpdir(), "linkshop-site-"));
  const outDir = join(dir, "dist");
  await mkdir(outDir);
  const [site, browser] = await Promise.all([serveSite(outDir, options.api), launchBrowser()]);
  const close = async () => {
    await browser.close();
    await site.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const linksFile = join(dir, "payment-links.json");
    if (options.links) await writeFile(linksFile, JSON.stringify(await options.links(site.url)));
    await buildSite({
      root: process.cwd(),
      outDir,
      linksFile,
      ...(options.catalog && { catalog: options.catalog }),
    });
  } catch (error) {
    await close();
    throw error;
  }
  return { site, browser, close };
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
