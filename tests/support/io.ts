/** A command's Io for tests: records what it prints and, given answers, plays a terminal that answers yes/no. */
import type { ParseArgsOptionsConfig } from "node:util";
import { type Command, type Io, type RunOptions, runCommand } from "../../src/commands/kit.ts";

/** An Io that records the command's output; with `answers`, an interactive terminal answering each question in turn. */
export function scriptedIo(answers?: boolean[]) {
  const out: string[] = [];
  const err: string[] = [];
  const questions: string[] = [];
  const io: Io = {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    ...(answers && {
      interactive: true,
      confirm: async (question: string) => {
        questions.push(question);
        const answer = answers.shift();
        if (answer === undefined) throw new Error(`unexpected question: ${question}`);
        return answer;
      },
    }),
  };
  return { io, out, err, questions, text: () => [...out, ...err].join("\n") };
}

/** Runs a command with scripted answers (none: no terminal) and returns its exit code with what it printed. */
export async function runScripted<O extends ParseArgsOptionsConfig>(
  command: Command<O>,
  options: Omit<RunOptions, "io"> & { answers?: boolean[] },
) {
  const { answers, ...rest } = options;
  const recorded = scriptedIo(answers);
  const code = await runCommand(command, { ...rest, io: recorded.io });
  return { code, ...recorded };
}
