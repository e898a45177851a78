/**
 * CLI glue for `npm run build` (Netlify's build command): writes dist/ from catalog.json, the links file and public/.
 * With --watch (netlify.toml's dev command, so plain `netlify dev` serves a built site) it rebuilds on every edit.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BuildError, buildSite } from "../src/site/build.ts";
import { DEFAULT_LINKS_FILE } from "../src/site/links-file.ts";
import { watchSite } from "../src/site/watch.ts";

const root = process.cwd();
const linksFile = process.env.PAYMENT_LINKS_FILE?.trim() || DEFAULT_LINKS_FILE;
const { values } = parseArgs({ options: { watch: { type: "boolean", default: false } } });

async function build(): Promise<boolean> {
  try {
    const result = await buildSite({ root, linksFile });
    for (const warning of result.warnings) console.warn(`warning: ${warning}`);
    console.log(
      `Built ${result.files.length} files into ${result.outDir} (home page + CSS: ${result.homeBytes} bytes), ` +
        `and ${result.blobs.length} file${result.blobs.length === 1 ? "" : "s"} for the deploy's Blobs store`,
    );
    return true;
  } catch (error) {
    if (!(error instanceof BuildError)) throw error;
    console.error(error.message);
    return false;
  }
}

if (!values.watch) {
  if (!(await build())) process.exitCode = 1;
} else if (process.env.LINKSHOP_STACK_SITE) {
  // Under npm start, the stack builds and watches its own copy of the site; netlify dev stops when this command
  // ends, so it waits for netlify dev to stop it.
  setInterval(() => {}, 2 ** 30);
} else {
  await build();
  watchSite({
    files: [join(root, "catalog.json"), join(root, linksFile)],
    folders: [join(root, "public"), join(root, "downloads")],
    rebuild: async () => {
      await build();
    },
    onError: (error) => console.error(error instanceof Error ? error.message : String(error)),
  });
  console.log("Watching catalog.json, public/, downloads/ and the links file for changes.");
}
