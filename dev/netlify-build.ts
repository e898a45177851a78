/**
 * Runs `netlify build --offline` on a copy of the project and reads the function archives it packaged: what a deploy
 * uploads, for `npm run bench` and the packaging tests. The copy keeps the project's own build/ and .netlify/ as
 * they are, so a running netlify dev (or a second run) is not disturbed.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import { unzipSync } from "fflate";
import { type ProjectCopy, copyProject } from "./project-copy.ts";

/** One function as Netlify packaged it (its entry in .netlify/functions/manifest.json, and its archive). */
export interface PackagedFunction {
  name: string;
  /** The packager Netlify used: `none` ships the given file as it is. */
  bundler: string;
  /** The function's own file in the archive, as Netlify's entry point hands it to the bootstrap: `download.mjs`. */
  mainFile: string;
  schedule?: string;
  routes: { pattern: string; methods: string[] }[];
  /** The archive's files by name: the function's and Netlify's own (`___netlify-bootstrap.mjs`...). */
  files: Record<string, Uint8Array>;
}

/** The copy of the project that was built, and what Netlify packaged there. */
export interface NetlifyBuild extends ProjectCopy {
  functions: PackagedFunction[];
}

interface ManifestEntry {
  name: string;
  bundler: string;
  mainFile: string;
  path: string;
  schedule?: string;
  routes?: { pattern: string; methods: string[] }[];
}

/**
 * Copies the project at `root` (copyProject) into a temporary folder, runs `netlify build
 * --offline` there (Netlify's build command, then its packaging of the functions) and reads every archive. Fails
 * with netlify build's output when the build fails.
 */
export async function netlifyBuildCopy(root: string): Promise<NetlifyBuild> {
  const { project, remove } = await copyProject(root, "linkshop-netlify-build-");
  try {
    try {
      await promisify(execFile)(
        process.execPath,
        [join(root, "node_modules/netlify-cli/bin/run.js"), "build", "--offline"],
        {
          cwd: project,
          env: { ...process.env, CI: "1", NETLIFY_TELEMETRY_DISABLED: "1" },
          maxBuffer: 16 * 1024 * 1024,
        },
      );
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`netlify build --offline failed:\n${stdout ?? ""}\n${stderr ?? ""}`, { cause: error });
    }
    const manifest = JSON.parse(
      await readFile(join(project, ".netlify/functions/manifest.json"), "utf8"),
    ) as {
      functions: ManifestEntry[];
    };
    const functions: PackagedFunction[] = [];
    for (const entry of manifest.functions) {
      const files = unzipSync(new Uint8Array(await readFile(entry.path)));
      functions.push({
        name: entry.name,
        bundler: entry.bundler,
        mainFile: importedByBootstrap(files) ?? basename(entry.mainFile),
        ...(entry.schedule !== undefined && { schedule: entry.schedule }),
        routes: (entry.routes ?? []).map(({ pattern, methods }) => ({ pattern, methods })),
        files,
      });
    }
    return { project, functions: functions.sort((a, b) => a.name.localeCompare(b.name)), remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

/** The function file Netlify's entry point loads (`getLambdaHandler('./download.mjs')`), relative to the archive. */
function importedByBootstrap(files: Record<string, Uint8Array>): string | undefined {
  const entry = files["___netlify-entry-point.mjs"];
  const path = entry && /getLambdaHandler\(\s*['"]([^'"]+)['"]/.exec(new TextDecoder().decode(entry))?.[1];
  return path?.replace(/^\.\//, "");
}
