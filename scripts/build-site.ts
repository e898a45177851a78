/** CLI glue for `npm run build` (Netlify's build command): writes dist/ from catalog.json, the links file and public/. */
import { BuildError, buildSite } from "../src/catalog/build.ts";

try {
  const result = await buildSite({
    root: process.cwd(),
    ...(process.env.PAYMENT_LINKS_FILE?.trim() && { linksFile: process.env.PAYMENT_LINKS_FILE.trim() }),
  });
  for (const warning of result.warnings) console.warn(`warning: ${warning}`);
  console.log(
    `Built ${result.files.length} files into ${result.outDir} (home page + CSS: ${result.homeBytes} bytes)`,
  );
} catch (error) {
  if (!(error instanceof BuildError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
