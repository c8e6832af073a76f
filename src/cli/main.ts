import { Command, CommanderError } from 'commander';
import { commands } from './commands/index.ts';
import { UserError } from './errors.ts';

export function buildProgram(): Command {
  const program = new Command('vigil')
    .description(
      'Catch a personal-data breach in its first minutes, scope who was exposed, drive the response.',
    )
    .option('--home <dir>', 'workspace directory (default: $VIGIL_HOME or ./.vigil)')
    .option(
      '--engine <url>',
      'clickhouse://host:port to use a ClickHouse server instead of the embedded store',
    )
    .showHelpAfterError()
    .exitOverride();
  for (const register of commands) register(program);
  return program;
}

/** Runs the CLI and returns the exit code; user errors print one line, bugs print a stack. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode;
    }
    if (err instanceof UserError) {
      process.stderr.write(`vigil: ${err.message}\n`);
      if (err.hint) process.stderr.write(`  ${err.hint}\n`);
      const sub = program.commands.find((c) => argv.includes(c.name()));
      if (sub)
        process.stderr.write(
          `usage: vigil ${sub.name()} ${sub.usage()}  (vigil ${sub.name()} --help for more)\n`,
        );
      return 2;
    }
    process.stderr.write(
      `vigil: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return 1;
  }
}
