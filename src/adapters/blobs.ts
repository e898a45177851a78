/**
 * The shop's files in Netlify Blobs. A deploy uploads them with the site (the build writes them under
 * DEPLOY_BLOBS_DIR, Netlify's file-based upload), so each deploy's functions read the files of that deploy.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { getDeployStore, getStore, type Store } from "@netlify/blobs";
import type { FileStore } from "../fulfilment/ports.ts";
import { StoreUnavailableError } from "../lib/errors.ts";

/**
 * Where a build leaves the blobs Netlify uploads to the deploy's store (the "deploy configuration" layout of
 * Netlify's build; a key `downloads/abc` is the file `<dir>/downloads/abc`, its metadata `<dir>/downloads/$abc.json`).
 */
export const DEPLOY_BLOBS_DIR = ".netlify/deploy/v1/blobs/deploy";

/** The site-wide store `netlify dev` gives the functions locally, where no deploy store exists. */
export const LOCAL_FILES_STORE = "linkshop-files";

/** What the build stores with each file. */
export interface FileMetadata {
  /** Bytes. */
  size: number;
}

/**
 * Files from the deploy's store. Under `netlify dev` there is no deploy (getDeployStore throws
 * MissingBlobsEnvironmentError), so the local Blobs sandbox netlify dev provides is used instead, filled on first
 * use from what the last build wrote under DEPLOY_BLOBS_DIR in `root`.
 */
export function netlifyFileStore(root: string = process.cwd()): FileStore {
  let chosen: { store: Store; local: boolean } | undefined;
  const choose = () => {
    if (chosen) return chosen;
    try {
      chosen = { store: getDeployStore(), local: false };
    } catch (error) {
      if (!(error instanceof Error && error.name === "MissingBlobsEnvironmentError")) throw error;
      chosen = { store: getStore(LOCAL_FILES_STORE), local: true };
    }
    return chosen;
  };

  const seedLocally = async (store: Store, key: string): Promise<boolean> => {
    const data = await readFile(join(root, DEPLOY_BLOBS_DIR, key)).catch(() => undefined);
    if (!data) return false;
    const metadata: FileMetadata = { size: data.byteLength };
    await store.set(key, new Blob([data]), { metadata: { ...metadata } });
    return true;
  };

  const read = async (key: string, metadataOnly: boolean) => {
    const { store, local } = choose();
    const get = () =>
      metadataOnly
        ? store.getMetadata(key).then((found) => found && { data: undefined, metadata: found.metadata })
        : store.getWithMetadata(key, { type: "stream" });
    let found = await get();
    if (!found && local && (await seedLocally(store, key))) found = await get();
    return found;
  };

  return {
    async open(key) {
      const found = await guard(() => read(key, false));
      if (!found?.data) return undefined;
      return { body: found.data, size: sizeOf(found.metadata) };
    },
    async size(key) {
      const found = await guard(() => read(key, true));
      return found ? sizeOf(found.metadata) : undefined;
    },
  };
}

function sizeOf(metadata: Record<string, unknown>): number | undefined {
  const size = metadata.size;
  return typeof size === "number" && Number.isSafeInteger(size) && size >= 0 ? size : undefined;
}

async function guard<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new StoreUnavailableError("Netlify Blobs request failed", { cause: error });
  }
}
