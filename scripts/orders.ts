/** CLI glue for `npm run orders`; the command lives in src/commands/orders.ts. */
import { runCommand } from "../src/commands/kit.ts";
import { ordersCommand } from "../src/commands/orders.ts";

process.exitCode = await runCommand(ordersCommand);
