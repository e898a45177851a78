/** Rebuilds the local site when its sources change (catalog.json, public/, the links file), one build at a time. */
import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";

export interface SiteWatcherOptions {
  /** Files whose changes trigger a rebuild (watched through their folder, so editors that replace files work). */
  files: string[];
  /** Folders whose changes, at any depth, trigger a rebuild. */
  folders: string[];
  /** Rebuilds the site; a rejection is reported through `onError` and the next change tries again. */
  rebuild: () => Promise<void>;
  onError: (error: unknown) => void;
  /** Changes closer together than this make one rebuild. Milliseconds; default 150. */
  debounceMs?: number;
}

export interface SiteWatcher {
  /** Stops watching and waits for a rebuild in progress. */
  close(): Promise<void>;
}

/**
 * Watches the sources and runs `rebuild` after each burst of changes. Builds never overlap: a change during a
 * build schedules exactly one more.
 */
export function watchSite(options: SiteWatcherOptions): SiteWatcher {
  const debounceMs = options.debounceMs ?? 150;
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const run = (): void => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = options
      .rebuild()
      .catch((error: unknown) => options.onError(error))
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          run();
        }
      });
  };
  const changed = (): void => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(run, debounceMs);
  };

  const byFolder = new Map<string, Set<string>>();
  for (const file of options.files) {
    const names = byFolder.get(dirname(file)) ?? new Set<string>();
    names.add(basename(file));
    byFolder.set(dirname(file), names);
  }
  for (const [folder, names] of byFolder) {
    watchers.push(
      watch(folder, (_event, name) => {
        if (name !== null && names.has(basename(name))) changed();
      }),
    );
  }
  for (const folder of options.folders) watchers.push(watch(folder, { recursive: true }, changed));
  for (const watcher of watchers) watcher.on("error", (error) => options.onError(error));

  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
      await running;
    },
  };
}
