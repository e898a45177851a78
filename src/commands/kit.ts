/**
 * The command kit. Every command (catalog:sync, stripe:webhook, doctor, orders, reconcile, and dev's trigger) is a
 * Command that runCommand runs the same way:
 * - arguments: node:util parseArgs, strict; -h/--help prints the usage to stdout (exit 0); a usage error prints the
 *   message and the usage to stderr (exit 2);
 * - configuration: one reader (config.ts). The process environment wins, then a running `npm start` (its
 *   `.linkshop/stack.json`), then `.env`: the order the functions see under npm start and netlify dev. An empty
 *   variable in the environment counts as unset;
 * - exit codes (io.ts): 0 done, 1 a check or action failed, 2 usage or configuration problem (nothing was done);
 * - one error printer: a message, never a stack trace or a secret;
 * - live mode asks first (confirm.ts): `--live`, or a yes on a terminal after seeing what will happen.
 * The scripts are one line: `process.exitCode = await runCommand(ordersCommand)`.
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import type Stripe from "stripe";
import type { Logger } from "../lib/log.ts";
import type { Services } from "../app/services.ts";
import {
  type CommandEnv,
  type Connect,
  type Env,
  readCommandEnv,
  readStripeAccess,
  realConnect,
  resolveSiteUrl,
  type StripeAccess,
} from "./config.ts";
import { type Consent, liveRule, requireConsent } from "./confirm.ts";
import { consoleIo, describeError, EXIT, exitCodeOf, type Io, UsageError } from "./io.ts";

export { CliError, consoleIo, describeError, EXIT, type ExitCode, type Io, UsageError } from "./io.ts";
export {
  type CommandEnv,
  type Connect,
  DEFAULT_SITE_URL,
  type Env,
  readCommandEnv,
  readStripeAccess,
  resolveSiteUrl,
  siteUrlFrom,
  type StripeAccess,
} from "./config.ts";
export {
  type Consent,
  type ConsentRule,
  liveRule,
  MAX_SHOWN,
  type Proposal,
  requireConsent,
} from "./confirm.ts";

type Parsed<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: true }>
>;

/** What a command's run sees. */
export interface CommandContext<O extends ParseArgsOptionsConfig> {
  values: Parsed<O>["values"];
  positionals: string[];
  io: Io;
  /** The project folder: `.env`, catalog.json and relative paths are read from here. */
  cwd: string;
  /** The merged configuration and where it came from. */
  config: CommandEnv;
  /** `config.env`. */
  env: Env;
  /** A Stripe client for the key (the real one, or a test's recorder). */
  stripe(access: StripeAccess): Stripe;
  /**
   * The shop's services over `env`, logging JSON lines to stderr (stdout stays the command's output, e.g. --json).
   * Throws ConfigError (exit 2) naming every missing variable; makes no request.
   */
  services(): Services;
}

/** One command: its help text, its options (--help is added), and what it does. */
export interface Command<O extends ParseArgsOptionsConfig> {
  /** How to run it and its options; the kit appends the exit codes and the configuration order. */
  usage: string;
  options: O;
  /** Whether it takes positional arguments (a subcommand, an event); refused as wrong usage otherwise. */
  positionals?: boolean;
  /** Resolves to the exit code; throws CliError, UsageError or ConfigError for what the user can fix. */
  run(context: CommandContext<O>): Promise<number>;
}

/** Infers the option types of a command from its literal. */
export function defineCommand<O extends ParseArgsOptionsConfig>(command: Command<O>): Command<O> {
  return command;
}

/** How a command is run; every field defaults to the real process. */
export interface RunOptions {
  argv?: string[];
  /** The process environment (the strongest layer of the configuration). */
  env?: Env;
  io?: Io;
  cwd?: string;
  /** Where a running npm start leaves its record (default `<cwd>/.linkshop`). */
  workDir?: string;
  connect?: Partial<Connect>;
}

const FOOTER = `Exit codes: 0 done; 1 a check or action failed, or you answered no; 2 wrong usage or configuration
(nothing was done). Configuration: the environment, then a running npm start, then .env.`;

/** The full help text of a command. */
export function usageOf(command: Command<ParseArgsOptionsConfig>): string {
  return `${command.usage}\n\n${FOOTER}`;
}

/** Runs a command to its exit code; nothing it throws escapes (see the header for the contract). */
export async function runCommand<O extends ParseArgsOptionsConfig>(
  command: Command<O>,
  {
    argv = process.argv.slice(2),
    env = process.env,
    io = consoleIo(),
    cwd = process.cwd(),
    ...rest
  }: RunOptions = {},
): Promise<number> {
  const usage = usageOf(command);
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        options: { ...command.options, help: { type: "boolean", short: "h" } },
        strict: true,
        allowPositionals: command.positionals ?? false,
      });
    } catch (error) {
      throw new UsageError(describeError(error));
    }
    if ((parsed.values as { help?: boolean }).help) {
      io.out(usage);
      return EXIT.ok;
    }
    const config = await readCommandEnv(cwd, env, rest.workDir);
    const connect: Connect = {
      stripe: rest.connect?.stripe ?? realConnect.stripe,
      services: rest.connect?.services ?? realConnect.services,
    };
    return await command.run({
      values: parsed.values as Parsed<O>["values"],
      positionals: parsed.positionals,
      io,
      cwd,
      config,
      env: config.env,
      stripe: (access) => connect.stripe(access),
      services: () =>
        connect.services(config.env, (event, fields) => io.err(JSON.stringify({ event, ...fields }))),
    });
  } catch (error) {
    io.err(error instanceof UsageError ? `${error.message}\n\n${usage}` : describeError(error));
    return exitCodeOf(error);
  }
}

/** A command as a function: `env` is the process environment layer; `build`, when given, wires the services. */
export type CommandFunction = (
  argv: string[],
  env: Env,
  io: Io,
  build?: (log: Logger) => Services,
) => Promise<number>;

/** `command` as a function, for callers that assemble the environment themselves (tests, scripts of their own). */
export function commandFunction<O extends ParseArgsOptionsConfig>(command: Command<O>): CommandFunction {
  return (argv, env, io, build) =>
    runCommand(command, { argv, env, io, ...(build && { connect: { services: (_, log) => build(log) } }) });
}

/** Where a command that writes to Stripe writes, and whether it may. */
export interface StripeTarget {
  access: StripeAccess;
  /** The public site URL, without trailing slash (https for a live key). */
  siteUrl: string;
  consent: Consent;
  stripe: Stripe;
}

/**
 * The start of every command that writes to Stripe (catalog:sync, stripe:webhook): the key, the site URL and the
 * live-mode decision, all before any request; then the client. `effect` completes "this …" for a live key.
 */
export function stripeTarget(
  { env, io, stripe }: Pick<CommandContext<ParseArgsOptionsConfig>, "env" | "io" | "stripe">,
  options: { siteUrl: string | undefined; live: boolean; dryRun: boolean; effect: string; action: string },
): StripeTarget {
  const access = readStripeAccess(env);
  const siteUrl = resolveSiteUrl(options.siteUrl, env, access.live);
  const rules = access.live && !options.dryRun ? [liveRule(options.live, options.effect)] : [];
  const consent = requireConsent(io, rules, { action: options.action, preview: "--dry-run" });
  return { access, siteUrl, consent, stripe: stripe(access) };
}
