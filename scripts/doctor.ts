/** CLI glue for `npm run doctor`; the checks live in src/doctor/. */
import { runDoctor } from "../src/commands/doctor/command.ts";

process.exitCode = await runDoctor(process.argv.slice(2), process.env, {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
});
