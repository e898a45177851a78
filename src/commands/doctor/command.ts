/** `npm run doctor`: checks every service the shop depends on, with the configuration the functions use. */
import { join, relative, resolve } from "node:path";
import { defineCommand, EXIT, siteUrlFrom } from "../kit.ts";
import { DEFAULT_LINKS_FILE } from "../../site/links-file.ts";
import {
  type CheckResult,
  checkCatalog,
  checkDownloadSecret,
  checkLinksFile,
  checkPaymentLinks,
  checkResend,
  checkStripeAccess,
  checkStripeKey,
  checkMailQueue,
  checkUpstash,
  checkVariables,
  checkWebhookEndpoint,
  checkWebhookSignature,
  type DoctorContext,
} from "./checks.ts";

const USAGE = `Usage: npm run doctor -- [options]

Checks the shop's setup for real: variables, Stripe key and access, Payment Links, the webhook endpoint,
Upstash, Resend and, with --url, the deployed function's signing secret. Exits 1 when a check fails.
It checks the configuration the functions run with (the same precedence; see below). It changes nothing.

Options:
  --url <site>       the deployed site (e.g. https://your-shop.netlify.app): checks its Payment Link redirects and
                     webhook endpoint, and sends its function a signed test event
  --links <file>     Payment Link file to check (default: the running npm start's, else ${DEFAULT_LINKS_FILE})
  -h, --help         show this help`;

const MARKS: Record<CheckResult["status"], string> = { ok: "ok  ", warn: "warn", skip: "skip", fail: "FAIL" };

/** One line per check, and the fix under each failure or warning. */
export function formatResult(result: CheckResult): string[] {
  const lines = [`  ${MARKS[result.status]}  ${result.name}: ${result.detail}`];
  if (result.fix) lines.push(`        fix: ${result.fix}`);
  return lines;
}

/** `npm run doctor`: runs every check in order; exits 1 when any check fails. */
export const doctorCommand = defineCommand({
  usage: USAGE,
  options: { url: { type: "string" }, links: { type: "string" } },
  async run({ values: options, config, env, io, cwd }) {
    const functionSite = options.url === undefined ? undefined : siteUrlFrom(options.url, "--url");
    const siteUrl = functionSite ?? (env.URL?.trim() ? siteUrlFrom(env.URL, "URL") : undefined);
    const linksPath = resolve(
      cwd,
      options.links ?? config.stack?.linksFile ?? (env.PAYMENT_LINKS_FILE?.trim() || DEFAULT_LINKS_FILE),
    );
    const context: DoctorContext = {
      env,
      siteUrl,
      linksPath,
      linksLabel: relative(cwd, linksPath).startsWith("..") ? linksPath : relative(cwd, linksPath),
      catalogPath: join(cwd, "catalog.json"),
      functionSite,
    };

    io.out(
      `Checking the configuration from ${config.sources.join(", over ")}${siteUrl ? `, for ${siteUrl}` : ""}:`,
    );
    let failed = 0;
    const report = (result: CheckResult) => {
      if (result.status === "fail") failed += 1;
      for (const line of formatResult(result)) io.out(line);
    };
    report(checkVariables(context));
    const catalog = await checkCatalog(context);
    report(catalog.result);
    report(checkDownloadSecret(context, catalog.catalog));
    report(await checkStripeKey(context));
    report(await checkStripeAccess(context));
    const links = await checkLinksFile(context, catalog.catalog);
    report(links.result);
    report(await checkPaymentLinks(context, links.links));
    report(await checkWebhookEndpoint(context));
    report(await checkUpstash(context));
    report(await checkMailQueue(context));
    report(await checkResend(context));
    report(await checkWebhookSignature(context));

    io.out(failed === 0 ? "All checks passed." : `${failed} check(s) failed.`);
    return failed === 0 ? EXIT.ok : EXIT.failed;
  },
});
