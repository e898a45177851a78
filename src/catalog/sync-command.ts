/** `npm run catalog:sync`: makes Stripe match catalog.json and writes the Payment Link file the site build reads. */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { applyPlan, readStripeState } from "./apply.ts";
import {
  CliError,
  describeError,
  type Env,
  type Io,
  readStripeAccess,
  resolveSiteUrl,
  stripeFor,
} from "./cli.ts";
import { DEFAULT_LINKS_FILE, writePaymentLinks } from "./links-file.ts";
import { CatalogError, loadCatalog } from "./schema.ts";
import { describeStep, planSync } from "./sync.ts";

const USAGE = `Usage: npm run catalog:sync -- [options]

Makes Stripe's Products, Prices and Payment Links match the catalog, then writes the Payment Link URLs.

Options:
  --dry-run          print the plan; change nothing in Stripe and write no file
  --live             allow a live key (sk_live_/rk_live_)
  --site-url <url>   public site URL for the after-payment redirect (default: SITE_URL, URL, ${"http://localhost:8888"})
  --catalog <file>   catalog to read (default: catalog.json)
  --out <file>       where to write the links (default: ${DEFAULT_LINKS_FILE})
  -h, --help         show this help

Environment: STRIPE_SECRET_KEY (required), STRIPE_API_BASE (optional, e.g. a local emulator).`;

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        "dry-run": { type: "boolean", default: false },
        live: { type: "boolean", default: false },
        "site-url": { type: "string" },
        catalog: { type: "string", default: "catalog.json" },
        out: { type: "string", default: DEFAULT_LINKS_FILE },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (error) {
    throw new CliError(`${describeError(error)}\n\n${USAGE}`, 2);
  }
}

/** Runs the command; resolves to the process exit code. Paths are relative to `cwd`. */
export async function runCatalogSync(argv: string[], env: Env, io: Io, cwd = process.cwd()): Promise<number> {
  try {
    const options = parse(argv);
    if (options.help) {
      io.out(USAGE);
      return 0;
    }
    const catalogPath = resolve(cwd, options.catalog);
    const catalog = await loadCatalog(catalogPath).catch((error: unknown) => {
      if (error instanceof CatalogError) throw new CliError(error.message);
      throw new CliError(`Cannot read the catalog ${options.catalog}: ${describeError(error)}`);
    });
    const access = readStripeAccess(env, options.live);
    const siteUrl = resolveSiteUrl(options["site-url"], env, access.live);
    const stripe = stripeFor(access);

    const mode = access.live ? "LIVE" : "test";
    const target = access.apiBase ? ` at ${access.apiBase.origin}` : "";
    io.out(
      `Syncing ${catalog.products.length} products from ${options.catalog} to Stripe (${mode} mode${target}).`,
    );
    io.out(`After payment, customers return to ${siteUrl}/thanks`);

    const state = await readStripeState(stripe);
    const plan = planSync(catalog, state, { siteUrl });
    for (const warning of plan.warnings) io.err(`warning: ${warning}`);

    if (plan.steps.length === 0) io.out(`Stripe already matches ${options.catalog}: nothing to change.`);
    if (options["dry-run"]) {
      for (const step of plan.steps) io.out(describeStep(step));
      if (plan.steps.length > 0)
        io.out(`Dry run: ${plan.steps.length} change(s) planned; nothing was written.`);
      return 0;
    }

    const links = await applyPlan(stripe, plan, (step, objectId) =>
      io.out(`${describeStep(step)} -> ${objectId}`),
    );
    if (plan.steps.length > 0) io.out(`Applied ${plan.steps.length} change(s).`);
    const outPath = resolve(cwd, options.out);
    const wrote = await writePaymentLinks(outPath, links);
    const count = Object.keys(links).length;
    io.out(`${wrote ? "Wrote" : "Unchanged:"} ${count} payment link(s) in ${options.out}`);
    if (wrote && options.out === DEFAULT_LINKS_FILE) {
      io.out(
        `Next: commit ${DEFAULT_LINKS_FILE}; the site build (npm run build) reads it, no Stripe key needed.`,
      );
    }
    return 0;
  } catch (error) {
    io.err(describeError(error));
    return error instanceof CliError ? error.exitCode : 1;
  }
}
