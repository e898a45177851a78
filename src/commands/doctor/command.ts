/** `npm run doctor`: checks every service the shop depends on, with the configuration the functions use. */
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { CliError, describeError, type Env, type Io } from "../kit.ts";
import { DEFAULT_LINKS_FILE } from "../../site/links-file.ts";
import { commandEnv } from "../config.ts";
import {
  type CheckResult,
  checkCatalog,
  checkLinksFile,
  checkPaymentLinks,
  checkResend,
  checkStripeAccess,
  checkStripeKey,
  checkUpstash,
  checkVariables,
  checkWebhookEndpoint,
  checkWebhookSignature,
  type DoctorContext,
} from "./checks.ts";

const USAGE = `Usage: npm run doctor -- [options]

Checks the shop's setup for real: variables, Stripe key and access, Payment Links, the webhook endpoint,
Upstash, Resend and, with --url, the deployed function's signing secret. Exits 1 when a check fails.

Configuration is read as the functions read it: the environment, over a running npm start, over .env.

Options:
  --url <site>       the deployed site (e.g. https://your-shop.netlify.app): checks its Payment Link redirects and
                     webhook endpoint, and sends its function a signed test event
  --links <file>     Payment Link file to check (default: the running npm start's, else ${DEFAULT_LINKS_FILE})
  -h, --help         show this help`;

function siteOrigin(raw: string, source: string): string {
  const value = raw.trim();
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol))
    throw new CliError(`${source} must be an http(s) URL, got "${value}"`, 2);
  const url = new URL(value);
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

const MARKS: Record<CheckResult["status"], string> = { ok: "ok  ", warn: "warn", skip: "skip", fail: "FAIL" };

/** One line per check, and the fix under each failure or warning. */
export function formatResult(result: CheckResult): string[] {
  const lines = [`  ${MARKS[result.status]}  ${result.name}: ${result.detail}`];
  if (result.fix) lines.push(`        fix: ${result.fix}`);
  return lines;
}

/** Runs every check in order; resolves to the exit code (1 when any check fails). */
export async function runDoctor(
  argv: string[],
  processEnv: Env,
  io: Io,
  cwd = process.cwd(),
  workDir?: string,
): Promise<number> {
  try {
    let options: { url?: string; links?: string; help: boolean };
    try {
      options = parseArgs({
        args: argv,
        strict: true,
        allowPositionals: false,
        options: {
          url: { type: "string" },
          links: { type: "string" },
          help: { type: "boolean", short: "h", default: false },
        },
      }).values;
    } catch (error) {
      throw new CliError(`${describeError(error)}\n\n${USAGE}`, 2);
    }
    if (options.help) {
      io.out(USAGE);
      return 0;
    }
    const { env, stack, sources } = await commandEnv(cwd, processEnv, workDir);
    const functionSite = options.url === undefined ? undefined : siteOrigin(options.url, "--url");
    const siteUrl = functionSite ?? (env.URL?.trim() ? siteOrigin(env.URL, "URL") : undefined);
    const linksPath = resolve(
      cwd,
      options.links ?? stack?.linksFile ?? (env.PAYMENT_LINKS_FILE?.trim() || DEFAULT_LINKS_FILE),
    );
    const context: DoctorContext = {
      env,
      siteUrl,
      linksPath,
      linksLabel: relative(cwd, linksPath).startsWith("..") ? linksPath : relative(cwd, linksPath),
      catalogPath: join(cwd, "catalog.json"),
      functionSite,
    };

    io.out(`Checking the configuration from ${sources.join(", then ")}${siteUrl ? `, for ${siteUrl}` : ""}:`);
    let failed = 0;
    const report = (result: CheckResult) => {
      if (result.status === "fail") failed += 1;
      for (const line of formatResult(result)) io.out(line);
    };
    report(checkVariables(context));
    const catalog = await checkCatalog(context);
    report(catalog.result);
    report(await checkStripeKey(context));
    report(await checkStripeAccess(context));
    const links = await checkLinksFile(context, catalog.catalog);
    report(links.result);
    report(await checkPaymentLinks(context, links.links));
    report(await checkWebhookEndpoint(context));
    report(await checkUpstash(context));
    report(await checkResend(context));
    report(await checkWebhookSignature(context));

    io.out(failed === 0 ? "All checks passed." : `${failed} check(s) failed.`);
    return failed === 0 ? 0 : 1;
  } catch (error) {
    io.err(describeError(error));
    return error instanceof CliError ? error.exitCode : 1;
  }
}
