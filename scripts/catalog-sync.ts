/** CLI glue for `npm run catalog:sync`; the logic lives in src/catalog/sync-command.ts. */
import { runCatalogSync } from "../src/commands/catalog-sync/command.ts";

process.exitCode = await runCatalogSync(process.argv.slice(2), process.env, {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
});
