import { UserError } from '../../cli/errors.ts';

/** One problem in a reference file, located precisely enough to fix without guessing. */
export interface ReferenceProblem {
  line: number;
  column?: string;
  message: string;
}

/** A reference file that failed validation: nothing of it was loaded. */
export class ReferenceFileError extends UserError {
  constructor(
    readonly file: string,
    readonly problems: ReferenceProblem[],
  ) {
    const shown = problems
      .slice(0, 20)
      .map((p) => `  ${file}:${p.line}${p.column ? ` column ${p.column}` : ''}: ${p.message}`)
      .join('\n');
    const more = problems.length > 20 ? `\n  … and ${problems.length - 20} more` : '';
    super(
      `${file} was not loaded (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${shown}${more}`,
      'Fix the file and load it again; nothing from it was stored.',
    );
  }
}
