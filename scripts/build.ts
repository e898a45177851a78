/**
 * `npm run build`, Netlify's build command: the functions (scripts/build-functions.ts), then the site
 * (scripts/build-site.ts). Both read the same arguments: with --watch both keep their output current.
 */
await import("./build-functions.ts");
if (!process.exitCode) await import("./build-site.ts");
