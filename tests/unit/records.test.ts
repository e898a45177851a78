/** updateRecord (src/fulfilment/records.ts): a change applied to the record as it is at the write. */
import { describe, expect, it } from "vitest";
import { updateRecord } from "../../src/fulfilment/records.ts";
import { InProgressError } from "../../src/lib/errors.ts";
import { emptyRecord, type LedgerRecord } from "../../src/order/ledger.ts";
import { MemoryLedger } from "../support/fakes.ts";

const KEY = "cs_test_records1";
const fulfilling = (): LedgerRecord => ({ ...emptyRecord(KEY, 1), state: "fulfilling", queued: ["receipt"] });

describe("updateRecord", () => {
  it("applies the change to a record another write changed in between, not to the copy read first", async () => {
    const ledger = new MemoryLedger();
    await ledger.put(KEY, "absent", fulfilling());
    let reads = 0;
    const racing = {
      get: async (key: string) => {
        const current = await ledger.get(key);
        // Another path records the receipt right after the first read.
        if (reads++ === 0)
          await ledger.put(KEY, "fulfilling", { ...fulfilling(), state: "fulfilled", queued: [] });
        return current;
      },
      put: ledger.put.bind(ledger),
    };
    const result = await updateRecord(racing, KEY, (current) => ({
      record: { ...current, notices: ["refund-ch_1-900"] },
    }));
    expect(reads).toBe(2);
    expect(result?.from).toBe("fulfilled");
    expect(await ledger.get(KEY)).toMatchObject({
      state: "fulfilled",
      queued: [],
      notices: ["refund-ch_1-900"],
    });
  });

  it("writes nothing when the change has nothing to do, or there is no record", async () => {
    const ledger = new MemoryLedger();
    expect(await updateRecord(ledger, KEY, (current) => ({ record: current }))).toBeUndefined();
    await ledger.put(KEY, "absent", fulfilling());
    expect(await updateRecord(ledger, KEY, () => undefined)).toBeUndefined();
    expect(await ledger.get(KEY)).toEqual(fulfilling());
  });

  it("gives up with InProgressError when every write finds the record changed", async () => {
    const ledger = new MemoryLedger();
    await ledger.put(KEY, "absent", fulfilling());
    let reads = 0;
    const busy = { get: (key: string) => (reads++, ledger.get(key)), put: async () => false };
    await expect(updateRecord(busy, KEY, (current) => ({ record: current }))).rejects.toBeInstanceOf(
      InProgressError,
    );
    expect(reads).toBe(3);
  });
});
