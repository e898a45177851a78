/**
 * Changing an order's record as it is now. The ledger's compare-and-set checks the state only, so a path that read
 * the record a while ago (before queueing emails, or before a batch went out) would erase whatever another path
 * recorded since in the same state. Such a path reads the record again and applies its change to that.
 */
import { InProgressError } from "../lib/errors.ts";
import type { LedgerRecord, OrderState } from "../order/ledger.ts";
import type { Ledger, LedgerExtras } from "./ports.ts";

/** How often a change is applied again to a record that changed between its read and its write. */
const ATTEMPTS = 3;

/** A change to a record: the record to write and what goes with it, or undefined when there is nothing to do. */
export type RecordChange = (
  current: LedgerRecord,
) => { record: LedgerRecord; extra?: LedgerExtras } | undefined;

/**
 * Reads the order's record, applies `change` and writes the result while the state is still the one read. Returns
 * the state found and the record written, or undefined when there is no record or nothing to change. Throws
 * InProgressError when the record kept changing, StoreUnavailableError when the store fails.
 */
export async function updateRecord(
  ledger: Pick<Ledger, "get" | "put">,
  key: string,
  change: RecordChange,
): Promise<{ from: OrderState; record: LedgerRecord } | undefined> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const current = await ledger.get(key);
    if (!current) return undefined;
    const next = change(current);
    if (!next) return undefined;
    if (await ledger.put(key, current.state, next.record, next.extra))
      return { from: current.state, record: next.record };
  }
  throw new InProgressError("ledger changed underneath");
}
