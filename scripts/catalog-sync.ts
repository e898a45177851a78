/** CLI glue for `npm run catalog:sync`; the command lives in src/commands/catalog-sync/. */
import { catalogSyncCommand } from "../src/commands/catalog-sync/command.ts";
import { runCommand } from "../src/commands/kit.ts";

process.exitCode = await runCommand(catalogSyncCommand);
