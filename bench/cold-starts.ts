/**
 * Cold starts of exactly what Netlify ships: each function's file as `netlify build --offline` packaged it, imported
 * in a fresh `node` process, against a single esbuild bundle of the same function source.
 */
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { netlifyBuildCopy } from "../dev/netlify-build.ts";
import { functionEntries } from "../src/site/functions.ts";

/** One function's packaged file and its cold import. Sizes in bytes, times in milliseconds (medians). */
export interface ColdStart {
  name: string;
  /** The function's own file in its archive. */
  packagedBytes: number;
  /** Importing the packaged file in a fresh process: time passed, and CPU time spent (all threads). */
  packagedMs: number;
  packagedCpuMs: number;
  /** Importing one esbuild bundle of the same source in a fresh process, the same two ways. */
  bundleMs: number;
  bundleCpuMs: number;
  /**
   * packagedCpuMs / bundleCpuMs. CPU time, which other work on a busy machine barely moves, where the time passed
   * also counts the waits for a core.
   */
  ratio: number;
}

/** A fresh `node` importing `file`, measured inside that process: milliseconds passed and CPU milliseconds spent. */
async function coldImport(file: string): Promise<{ ms: number; cpuMs: number }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      "const t = performance.now(); const c = process.cpuUsage(); " +
        `await import(${JSON.stringify(pathToFileURL(file).href)}); ` +
        "const u = process.cpuUsage(c); console.log(performance.now() - t, (u.user + u.system) / 1000);",
    ],
    // No configuration: the functions start as on a site without variables (each reads it when called).
    { env: { PATH: process.env.PATH ?? "" }, encoding: "utf8" },
  );
  const [ms = Number.NaN, cpuMs = Number.NaN] = (stdout.trim().split("\n").at(-1) ?? "")
    .split(" ")
    .map(Number);
  return { ms, cpuMs };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

/**
 * Packages the project at `root` with `netlify build --offline` (in a copy), unpacks each function's archive (away
 * from any node_modules, as on Netlify) and times its cold import, `runs` times, alternating with a reference: the
 * same function source bundled by esbuild into one file, with no Netlify in between.
 */
export async function measureColdStarts(root: string, runs = 15): Promise<ColdStart[]> {
  const packaged = await netlifyBuildCopy(root);
  try {
    const sources = await functionEntries(packaged.project);
    // Beside the project's copy, not in it: nothing above these files holds a node_modules to fall back on.
    const outside = join(packaged.project, "..");
    const results: ColdStart[] = [];
    for (const fn of packaged.functions) {
      const source = sources.get(fn.name);
      if (!source) throw new Error(`netlify build packaged ${fn.name}, which has no source`);
      const unpacked = join(outside, "unpacked", fn.name);
      await mkdir(unpacked, { recursive: true });
      for (const [name, contents] of Object.entries(fn.files)) {
        await mkdir(join(unpacked, name, ".."), { recursive: true });
        await writeFile(join(unpacked, name), contents);
      }
      const shipped = join(unpacked, fn.mainFile);
      const reference = join(outside, "reference", `${fn.name}.mjs`);
      await build({
        absWorkingDir: packaged.project,
        entryPoints: [source],
        bundle: true,
        platform: "node",
        target: "node22",
        format: "esm",
        outfile: reference,
        logLevel: "error",
        // The bundle is ESM; a few CommonJS dependencies still call require().
        banner: {
          js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        },
      });
      const shippedRuns: { ms: number; cpuMs: number }[] = [];
      const referenceRuns: { ms: number; cpuMs: number }[] = [];
      for (let i = 0; i < runs; i++) {
        shippedRuns.push(await coldImport(shipped));
        referenceRuns.push(await coldImport(reference));
      }
      const packagedCpuMs = median(shippedRuns.map(({ cpuMs }) => cpuMs));
      const bundleCpuMs = median(referenceRuns.map(({ cpuMs }) => cpuMs));
      results.push({
        name: fn.name,
        packagedBytes: fn.files[fn.mainFile]?.byteLength ?? Number.NaN,
        packagedMs: median(shippedRuns.map(({ ms }) => ms)),
        packagedCpuMs,
        bundleMs: median(referenceRuns.map(({ ms }) => ms)),
        bundleCpuMs,
        ratio: packagedCpuMs / bundleCpuMs,
      });
    }
    return results;
  } finally {
    await packaged.remove();
  }
}
