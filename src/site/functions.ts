/**
 * The functions as Netlify ships them: every function in netlify/functions/ bundled by esbuild into one ES module of
 * its own in build/functions/, which netlify.toml hands to Netlify as it is (`node_bundler = "none"`). One file per
 * function loads much faster on a cold start than the module tree Netlify's file tracer would ship, and carries only
 * the code that function imports.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { watch as watchFolder } from "node:fs";
import { basename, dirname, extname, join, relative } from "node:path";
import { type BuildContext, type BuildOptions, type BuildResult, context, build } from "esbuild";

/** Where the function sources are, relative to the project root. */
export const FUNCTIONS_SOURCE_DIR = "netlify/functions";
/** Where the bundles go, relative to the project root: netlify.toml's `[functions] directory`. */
export const FUNCTIONS_OUT_DIR = "build/functions";

/** Source extensions esbuild bundles as a function's entry. */
const ENTRY_EXTENSIONS = [".ts", ".mts", ".js", ".mjs"];

/** One function's bundle. */
export interface FunctionBundle {
  /** The function's name (its file name in netlify/functions/ without the extension). */
  name: string;
  /** The bundle, an absolute path. */
  file: string;
  bytes: number;
  /** The source files in the bundle, relative to the root (`src/app/download.ts`, `node_modules/stripe/...`). */
  inputs: string[];
}

/** A function's source is missing, ambiguous or does not bundle; the message says which and why. */
export class FunctionsBuildError extends Error {
  override readonly name = "FunctionsBuildError";
}

export interface FunctionsBuildOptions {
  /** The project root. */
  root: string;
  /** Where the bundles go; default `<root>/build/functions`. */
  outDir?: string;
}

/**
 * Every function of netlify/functions/, as name -> entry file: `<name>.ts` (or .mts, .js, .mjs), or a folder
 * `<name>/` holding `index.ts` or `<name>.ts`, as Netlify finds them. Taken from the folder, so a new function
 * needs no list.
 */
export async function functionEntries(root: string): Promise<Map<string, string>> {
  const dir = join(root, FUNCTIONS_SOURCE_DIR);
  const entries = new Map<string, string>();
  const add = (name: string, file: string) => {
    const other = entries.get(name);
    if (other) {
      throw new FunctionsBuildError(
        `Two sources for the function ${name}: ${relative(root, other)} and ${relative(root, file)}. Keep one.`,
      );
    }
    entries.set(name, file);
  };
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isFile() && ENTRY_EXTENSIONS.includes(extname(entry.name))) {
      add(basename(entry.name, extname(entry.name)), join(dir, entry.name));
    } else if (entry.isDirectory()) {
      const inside = await readdir(join(dir, entry.name));
      const main = ENTRY_EXTENSIONS.flatMap((ext) => [`index${ext}`, `${entry.name}${ext}`]).find((file) =>
        inside.includes(file),
      );
      if (main) add(entry.name, join(dir, entry.name, main));
    }
  }
  return entries;
}

type Bundling = BuildOptions & { metafile: true; write: false };
type Bundled = BuildResult<Bundling>;

/**
 * esbuild's settings for one file per function: Node 22, ES module, everything it imports inlined (no
 * node_modules ship with it), no code splitting.
 */
function bundleOptions(root: string, entries: Map<string, string>, outDir: string): Bundling {
  return {
    absWorkingDir: root,
    entryPoints: Object.fromEntries(entries),
    outdir: outDir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting: false,
    platform: "node",
    target: "node22",
    format: "esm",
    // Readable stack traces in the function logs; minifying saves little load time on a file this size.
    minify: false,
    metafile: true,
    // Written by writeBundles(), only when changed, so a running netlify dev reloads only what changed.
    write: false,
    logLevel: "silent",
    // A few CommonJS dependencies call require(), which an ES module does not have.
    banner: {
      js: "import { createRequire as __linkshopCreateRequire } from 'node:module'; const require = __linkshopCreateRequire(import.meta.url);",
    },
  };
}

/** Builds every function into `outDir` and removes bundles of functions that no longer exist. */
export async function buildFunctions(options: FunctionsBuildOptions): Promise<FunctionBundle[]> {
  const outDir = options.outDir ?? join(options.root, FUNCTIONS_OUT_DIR);
  const entries = await functionEntries(options.root);
  if (entries.size === 0) throw new FunctionsBuildError(`No functions in ${FUNCTIONS_SOURCE_DIR}/`);
  let result: Bundled;
  try {
    result = await build(bundleOptions(options.root, entries, outDir));
  } catch (error) {
    throw new FunctionsBuildError(describeFailure(error), { cause: error });
  }
  return writeBundles(options.root, outDir, entries, result);
}

/**
 * Writes each bundle that changed (through a temporary file and a rename, so netlify dev, or a second build of the
 * same checkout, never reads half a file) and removes the bundles of functions that are gone.
 */
async function writeBundles(
  root: string,
  outDir: string,
  entries: Map<string, string>,
  result: Bundled,
): Promise<FunctionBundle[]> {
  await mkdir(outDir, { recursive: true });
  const staging = join(dirname(outDir), `.${basename(outDir)}-staging`);
  await mkdir(staging, { recursive: true });
  const bundles: FunctionBundle[] = [];
  for (const output of result.outputFiles) {
    const name = basename(output.path, ".mjs");
    const meta = result.metafile.outputs[relative(root, output.path).split("\\").join("/")];
    const current = await readFile(output.path).catch(() => undefined);
    if (!current?.equals(output.contents)) {
      const temporary = join(staging, `${name}.${process.pid}.${Date.now()}.mjs`);
      await writeFile(temporary, output.contents);
      await rename(temporary, output.path);
    }
    bundles.push({
      name,
      file: output.path,
      bytes: output.contents.byteLength,
      inputs: Object.keys(meta?.inputs ?? {}).sort(),
    });
  }
  for (const file of await readdir(outDir)) {
    if (file.endsWith(".mjs") && !entries.has(basename(file, ".mjs")))
      await rm(join(outDir, file), { force: true });
  }
  return bundles.sort((a, b) => a.name.localeCompare(b.name));
}

/** esbuild's errors, one line each with the file and line where it can say. */
function describeFailure(error: unknown): string {
  const errors = (error as { errors?: { text: string; location?: { file: string; line: number } | null }[] })
    .errors;
  if (!errors?.length)
    return `The functions did not build: ${error instanceof Error ? error.message : error}`;
  const lines = errors.map(({ text, location }) =>
    location ? `  ${location.file}:${location.line}: ${text}` : `  ${text}`,
  );
  return `The functions did not build:\n${lines.join("\n")}`;
}

export interface FunctionsWatchOptions extends FunctionsBuildOptions {
  /** After every build that succeeded. */
  onBuild: (bundles: FunctionBundle[]) => void;
  /** A build that failed; the bundles before it stay in place. */
  onError: (error: unknown) => void;
}

export interface FunctionsWatcher {
  close(): Promise<void>;
}

/**
 * Builds the functions, then rebuilds them whenever a file they import changes (esbuild's own watch), and starts
 * over when a function is added to or removed from netlify/functions/.
 */
export async function watchFunctions(options: FunctionsWatchOptions): Promise<FunctionsWatcher> {
  const { root, onBuild, onError } = options;
  const outDir = options.outDir ?? join(root, FUNCTIONS_OUT_DIR);
  let current: { context: BuildContext; names: string } | undefined;
  let closed = false;
  // One restart at a time: a burst of folder events ends in one context for the folder as it is then.
  let restarting = Promise.resolve();

  const start = async () => {
    const entries = await functionEntries(root);
    const names = [...entries.keys()].sort().join(",");
    if (closed || current?.names === names) return;
    await current?.context.dispose();
    current = undefined;
    if (entries.size === 0)
      return onError(new FunctionsBuildError(`No functions in ${FUNCTIONS_SOURCE_DIR}/`));
    const ctx = await context({
      ...bundleOptions(root, entries, outDir),
      plugins: [
        {
          name: "linkshop-write",
          setup(build) {
            build.onEnd(async (result) => {
              if (result.errors.length > 0) return onError(new FunctionsBuildError(describeFailure(result)));
              try {
                onBuild(await writeBundles(root, outDir, entries, result as Bundled));
              } catch (error) {
                onError(error);
              }
            });
          },
        },
      ],
    });
    current = { context: ctx, names };
    await ctx.watch();
  };
  const restart = () => {
    restarting = restarting.then(start).catch(onError);
    return restarting;
  };

  await restart();
  const folder = watchFolder(join(root, FUNCTIONS_SOURCE_DIR), () => void restart());
  return {
    async close() {
      closed = true;
      folder.close();
      await restarting;
      await current?.context.dispose();
    },
  };
}
