/** CLI glue for `npm run doctor`; the command lives in src/commands/doctor/. */
import { doctorCommand } from "../src/commands/doctor/command.ts";
import { runCommand } from "../src/commands/kit.ts";

process.exitCode = await runCommand(doctorCommand);
