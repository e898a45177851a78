/** CLI glue for `npm run trigger`; the command lives in dev/trigger.ts. */
import { triggerCommand } from "../dev/trigger.ts";
import { runCommand } from "../src/commands/kit.ts";

process.exitCode = await runCommand(triggerCommand());
