import type { Command } from 'commander';
import { register as audit } from './audit.ts';
import { register as demo } from './demo.ts';
import { register as detect } from './detect.ts';
import { register as evaluate } from './eval.ts';
import { register as event } from './event.ts';
import { register as incidents } from './incidents.ts';
import { register as ingest } from './ingest.ts';
import { register as scope } from './scope.ts';
import { register as serve } from './serve.ts';
import { register as simulate } from './simulate.ts';
import { register as status } from './status.ts';

/** Each command module exports one function that adds its subcommand to the program. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  audit,
  demo,
  detect,
  evaluate,
  event,
  incidents,
  ingest,
  scope,
  serve,
  simulate,
  status,
];
