/** CLI glue for `npm run reconcile`; the command lives in src/commands/reconcile.ts. */
import { runCommand } from "../src/commands/kit.ts";
import { reconcileCommand } from "../src/commands/reconcile.ts";

process.exitCode = await runCommand(reconcileCommand);
