/**
 * A throwaway copy of the project, for what must not touch the developer's own checkout: `netlify build` (the
 * bench and the packaging tests) and edits made while `netlify dev` runs (the reload test).
 */
import { cp, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Top-level entries of the project a copy neither needs nor may share: outputs, local state, secrets. */
const LEFT_OUT = new Set([
  "node_modules",
  ".git",
  ".netlify",
  "dist",
  "build",
  ".linkshop",
  ".outbox",
  ".env",
]);

export interface ProjectCopy {
  /** The copy's root. */
  project: string;
  /** Deletes the copy. */
  remove(): Promise<void>;
}

/**
 * Copies the project at `root` into a new temporary folder named after `prefix`, without its outputs, local state
 * and secrets; its node_modules are linked, not copied.
 */
export async function copyProject(root: string, prefix: string): Promise<ProjectCopy> {
  const work = await mkdtemp(join(tmpdir(), prefix));
  const remove = () => rm(work, { recursive: true, force: true });
  try {
    const project = join(work, "project");
    await cp(root, project, {
      recursive: true,
      filter: (source) =>
        source === root || !LEFT_OUT.has(source.slice(root.length + 1).split(/[\\/]/)[0] ?? ""),
    });
    await symlink(join(root, "node_modules"), join(project, "node_modules"), "dir");
    return { project, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
