/**
 * The one confirmation before a command does what it cannot take back (writes to a live Stripe account, emails
 * real customers, sweeps a long stretch of old orders): a flag on the command line, or a yes on a terminal after
 * seeing what will happen. Decided before any network call; asked once the command knows what it will do.
 */
import { CliError, EXIT, type Io } from "./io.ts";

/** One reason an action needs a yes, and the flag that gives it on the command line. */
export interface ConsentRule {
  /** Why, e.g. "the Stripe key is LIVE: this emails a real customer". */
  reason: string;
  /** e.g. `--live`. */
  flag: string;
  /** Whether the flag was given. */
  given: boolean;
}

/** What a person is asked to agree to. */
export interface Proposal {
  /** One line: what will happen, with counts. */
  summary: string;
  /** One line per order, change or (masked) recipient; the first MAX_SHOWN are shown, the rest counted. */
  details?: string[];
}

/** Lines of detail shown before the question. */
export const MAX_SHOWN = 20;

/** The decision for one run of a command. */
export interface Consent {
  /** True when a person will be asked: a rule applies whose flag is missing, and there is a terminal. */
  readonly pending: boolean;
  /** Shows the proposal and asks; returns at once when nothing is pending. A no throws CliError (exit 1). */
  confirm(proposal: Proposal): Promise<void>;
}

/** The rule for a live Stripe key; `effect` completes "this …", e.g. "emails a real customer". */
export function liveRule(given: boolean, effect: string): ConsentRule {
  return { reason: `the Stripe key is LIVE: this ${effect}`, flag: "--live", given };
}

/**
 * Call before any network call, with the rules that apply to this run. When a rule's flag is missing and nobody
 * can be asked (no terminal), it throws CliError with exit 2: nothing has been done. `action` completes "Refusing
 * to …"; `preview` names the flag that shows what would happen without doing it, when the command has one.
 */
export function requireConsent(
  io: Io,
  rules: ConsentRule[],
  { action, preview }: { action: string; preview?: string },
): Consent {
  const missing = rules.filter((rule) => !rule.given);
  const canAsk = io.interactive === true && io.confirm !== undefined;
  if (missing.length > 0 && !canAsk) {
    throw new CliError(
      `Refusing to ${action} without a confirmation: ${missing.map((rule) => rule.reason).join("; ")}. ` +
        `Nothing was done. Pass ${missing.map((rule) => rule.flag).join(" ")} to confirm` +
        `${preview ? ` (${preview} shows what would happen)` : ""}, or run it in a terminal to be asked.`,
      EXIT.usage,
    );
  }
  return {
    pending: missing.length > 0,
    async confirm({ summary, details = [] }) {
      if (missing.length === 0) return;
      for (const rule of missing) io.err(`Careful: ${rule.reason}.`);
      io.err(summary);
      for (const line of details.slice(0, MAX_SHOWN)) io.err(`  ${line}`);
      if (details.length > MAX_SHOWN) io.err(`  ... and ${details.length - MAX_SHOWN} more`);
      const yes = (await io.confirm?.("Go ahead?")) ?? false;
      if (!yes) throw new CliError("Answered no: nothing was done.", EXIT.failed);
    },
  };
}
