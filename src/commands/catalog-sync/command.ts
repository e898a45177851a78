/** `npm run catalog:sync`: makes Stripe match catalog.json and writes the Payment Link file the site build reads. */
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { ApplyError, applyPlan, readStripeState } from "./apply.ts";
import { DEPLOYED_LINKS_PATH } from "../../site/build.ts";
import {
  CliError,
  DEFAULT_SITE_URL,
  defineCommand,
  describeError,
  type Env,
  EXIT,
  type Io,
  runCommand,
  stripeTarget,
} from "../kit.ts";
import {
  DEFAULT_LINKS_FILE,
  type PaymentLinks,
  readPaymentLinks,
  writePaymentLinks,
} from "../../site/links-file.ts";
import { type Catalog, CatalogError, loadCatalog } from "../../shop/catalog.ts";
import { describeStep, planSync } from "./plan.ts";

/** Where links of a local emulator go, so they never land in the committed file. */
export const LOCAL_LINKS_FILE = ".linkshop/payment-links.local.json";

const USAGE = `Usage: npm run catalog:sync -- [options]

Makes Stripe's Products, Prices and Payment Links match the catalog, then writes the Payment Link URLs.
Links the catalog no longer uses (after a price change, or for a removed product) stay active, because the
deployed site still shows them until the new links file is deployed. Once it is, run again with --prune.

Options:
  --dry-run           print the plan; change nothing in Stripe and write no file
  --prune             also retire what the deployed site no longer shows: deactivate old links, then archive
                      unused prices and removed products
  --deployed <src>    for --prune: the deployed links file, a URL or a path
                      (default: <site URL>/${DEPLOYED_LINKS_PATH}, published by the build)
  --live              with a live key (sk_live_/rk_live_): apply without asking (on a terminal you are asked
                      after seeing the plan; without one, a live key needs --live)
  --site-url <url>    public site URL for the after-payment redirect (default: SITE_URL, URL, ${DEFAULT_SITE_URL})
  --catalog <file>    catalog to read (default: catalog.json)
  --out <file>        where to write the links (default: ${DEFAULT_LINKS_FILE}; ${LOCAL_LINKS_FILE} when
                      STRIPE_API_BASE points at an emulator)
  -h, --help          show this help

Environment: STRIPE_SECRET_KEY (required), STRIPE_API_BASE (optional, e.g. a local emulator).`;

async function readCatalog(path: string, label: string): Promise<Catalog> {
  try {
    return await loadCatalog(path, { siteDir: join(dirname(path), "public") });
  } catch (error) {
    if (error instanceof CatalogError) throw new CliError(error.message);
    throw new CliError(`Cannot read the catalog ${label}: ${describeError(error)}`);
  }
}

/** `npm run catalog:sync`; paths are relative to the project folder. */
export const catalogSyncCommand = defineCommand({
  usage: USAGE,
  options: {
    "dry-run": { type: "boolean", default: false },
    prune: { type: "boolean", default: false },
    deployed: { type: "string" },
    live: { type: "boolean", default: false },
    "site-url": { type: "string" },
    catalog: { type: "string", default: "catalog.json" },
    out: { type: "string" },
  },
  async run(context) {
    const { values: options, io, cwd } = context;
    const dryRun = options["dry-run"];
    const { access, siteUrl, consent, stripe } = stripeTarget(context, {
      siteUrl: options["site-url"],
      live: options.live,
      dryRun,
      effect: "changes what real customers can buy",
      action: "sync the catalog",
    });
    const outFile = chooseOutFile(options.out, access.apiBase, cwd);
    const catalog = await readCatalog(resolve(cwd, options.catalog), options.catalog);

    const mode = access.live ? "LIVE" : "test";
    const target = access.apiBase ? ` at ${access.apiBase.origin}` : "";
    io.out(
      `Syncing ${catalog.products.length} products from ${options.catalog} to Stripe (${mode} mode${target}).`,
    );
    io.out(`After payment, customers return to ${siteUrl}/thanks`);
    const outPath = resolve(cwd, outFile);
    if (outFile !== (options.out ?? DEFAULT_LINKS_FILE)) {
      io.out(
        `Links of the emulator at ${access.apiBase?.origin} go to ${outFile}, not ${DEFAULT_LINKS_FILE}.`,
      );
    }
    const previous = await readPaymentLinks(outPath).catch(() => undefined);
    const prune = options.prune
      ? {
          keepUrls: await deployedUrls(
            options.deployed ?? `${siteUrl}/${DEPLOYED_LINKS_PATH}`,
            cwd,
            previous,
          ),
        }
      : undefined;

    const state = await readStripeState(stripe);
    const plan = planSync(catalog, state, { siteUrl, ...(prune && { prune }) });
    for (const warning of plan.warnings) io.err(`warning: ${warning}`);

    if (plan.steps.length === 0) io.out(`Stripe already matches ${options.catalog}: nothing to change.`);
    if (dryRun) {
      for (const step of plan.steps) io.out(describeStep(step));
      if (plan.steps.length > 0)
        io.out(`Dry run: ${plan.steps.length} change(s) planned; nothing was written.`);
      return EXIT.ok;
    }
    if (plan.steps.length > 0) {
      await consent.confirm({
        summary: `${plan.steps.length} change(s) to the Stripe account:`,
        details: plan.steps.map(describeStep),
      });
    }

    let links: PaymentLinks;
    let failure: ApplyError | undefined;
    try {
      links = await applyPlan(stripe, plan, (step, objectId) =>
        io.out(`${describeStep(step)} -> ${objectId}`),
      );
    } catch (error) {
      if (!(error instanceof ApplyError)) throw error;
      failure = error;
      // What exists now: the links created or kept so far, and for the rest the previous (still active) ones.
      const kept = Object.entries(previous ?? {}).filter(([id]) => id in plan.links && !(id in error.links));
      links = { ...Object.fromEntries(kept), ...error.links };
    }
    if (!failure && plan.steps.length > 0) io.out(`Applied ${plan.steps.length} change(s).`);
    const wrote = await writePaymentLinks(outPath, links);
    const count = Object.keys(links).length;
    io.out(`${wrote ? "Wrote" : "Unchanged:"} ${count} payment link(s) in ${outFile}`);
    if (failure) {
      throw new CliError(
        `Stopped after ${failure.applied} of ${plan.steps.length} change(s): ${describeStep(failure.step)} failed: ` +
          `${describeError(failure.cause)}. ${outFile} names the links that exist; run the sync again to finish.`,
      );
    }
    if (plan.retained.length > 0) {
      io.out(
        `Left active until the site no longer shows them: ${plan.retained.map((link) => `${link.catalogId} (${link.url})`).join(", ")}.`,
      );
      io.out(
        `Once the new ${outFile} is deployed, run: npm run catalog:sync -- --prune${access.live ? " --live" : ""} --site-url ${siteUrl}`,
      );
    }
    if (wrote && outFile === DEFAULT_LINKS_FILE) {
      io.out(
        `Next: commit ${DEFAULT_LINKS_FILE}; the site build (npm run build) reads it, no Stripe key needed.`,
      );
    }
    return EXIT.ok;
  },
});

/**
 * Runs the sync with `env` as the process environment and `cwd` as the project folder (`.env` and a running
 * npm start's record there still fill in what `env` leaves unset); resolves to the exit code.
 */
export function runCatalogSync(argv: string[], env: Env, io: Io, cwd = process.cwd()): Promise<number> {
  return runCommand(catalogSyncCommand, { argv, env, io, cwd });
}

/**
 * The links file to write. A local emulator's links must never reach the committed file: by default they go to
 * LOCAL_LINKS_FILE, and asking for the committed file explicitly is refused.
 */
function chooseOutFile(flag: string | undefined, apiBase: URL | undefined, cwd: string): string {
  const local = apiBase !== undefined && /^(localhost|127\.|\[::1\])/.test(apiBase.hostname);
  if (!local) return flag ?? DEFAULT_LINKS_FILE;
  const committed = resolve(cwd, DEFAULT_LINKS_FILE);
  if (flag === undefined) return LOCAL_LINKS_FILE;
  if (resolve(cwd, flag) === committed) {
    throw new CliError(
      `Refusing to write links of the local emulator at ${apiBase.origin} into ${DEFAULT_LINKS_FILE}: deployed, ` +
        `they would be broken Buy buttons. Leave out --out (they go to ${LOCAL_LINKS_FILE}) or pick another file.`,
      EXIT.usage,
    );
  }
  return flag;
}

/**
 * URLs a prune must keep active: the deployed links file (fetched from the site, or read from a path) and the
 * local links file. Without the deployed file there is no prune: it could retire a link buyers still click.
 */
async function deployedUrls(
  source: string,
  cwd: string,
  local: PaymentLinks | undefined,
): Promise<Set<string>> {
  let deployed: unknown;
  try {
    if (/^https?:\/\//.test(source)) {
      const response = await fetch(source, { signal: AbortSignal.timeout(15_000) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      deployed = await response.json();
    } else {
      const path = isAbsolute(source) ? source : join(cwd, source);
      const links = await readPaymentLinks(path);
      if (!links) throw new Error(`${relative(cwd, path)} does not exist`);
      deployed = links;
    }
  } catch (error) {
    throw new CliError(
      `Cannot read the deployed links file at ${source} (${describeError(error)}), so nothing was pruned: ` +
        "deploy the site first, or pass --deployed <url or file>.",
    );
  }
  if (typeof deployed !== "object" || deployed === null || Array.isArray(deployed)) {
    throw new CliError(
      `The deployed links file at ${source} is not a map of catalog ids to links; nothing was pruned.`,
    );
  }
  const urls = Object.values(deployed).filter((url): url is string => typeof url === "string");
  return new Set([...urls, ...Object.values(local ?? {})]);
}
