/**
 * CLI glue for the functions' half of `npm run build`: one bundle per function in build/functions/ (src/site/functions.ts),
 * which Netlify ships as it is. With --watch it rebuilds a function whenever a file it imports changes.
 */
import { parseArgs } from "node:util";
import {
  type FunctionBundle,
  FunctionsBuildError,
  buildFunctions,
  watchFunctions,
} from "../src/site/functions.ts";

const root = process.cwd();
const { values } = parseArgs({ options: { watch: { type: "boolean", default: false } } });

const summary = (bundles: FunctionBundle[]) =>
  `Built ${bundles.length} functions into build/functions: ` +
  bundles.map(({ name, bytes }) => `${name} (${Math.round(bytes / 1024)} KiB)`).join(", ");
const explain = (error: unknown) => {
  if (!(error instanceof FunctionsBuildError)) throw error;
  console.error(error.message);
};

if (!values.watch) {
  try {
    console.log(summary(await buildFunctions({ root })));
  } catch (error) {
    explain(error);
    process.exitCode = 1;
  }
} else {
  await watchFunctions({
    root,
    onBuild: (bundles) => console.log(summary(bundles)),
    onError: (error) => {
      try {
        explain(error);
      } catch {
        console.error(error instanceof Error ? error.message : String(error));
      }
    },
  });
  console.log("Watching the functions and everything they import for changes.");
}
