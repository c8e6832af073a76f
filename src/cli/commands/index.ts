import type { Command } from 'commander';
import { register as ingest } from './ingest.ts';
import { register as status } from './status.ts';

/** Each command module exports one function that adds its subcommand to the program. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [ingest, status];
