/** Runs system commands such as `ip` without a shell, behind an interface that tests replace. */

import { execFile } from 'node:child_process';

export interface CommandRunner {
  /** Runs `command` with `args` and returns its standard output; rejects with CommandError. */
  run(command: string, args: readonly string[]): Promise<string>;
}

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`${command} ${args.join(' ')} failed${exitCode === null ? '' : ` with exit code ${exitCode}`}: ${stderr.trim() || 'no error output'}`);
    this.name = 'CommandError';
  }
}

/** Limit on how long one command may run, so a hung `ip` cannot hang a disconnect. */
const COMMAND_TIMEOUT_MS = 15_000;

export const systemCommandRunner: CommandRunner = {
  run(command, args) {
    return new Promise((resolve, reject) => {
      execFile(command, [...args], { timeout: COMMAND_TIMEOUT_MS, encoding: 'utf8' }, (error, stdout, stderr) => {
        if (error) {
          const exitCode = typeof error.code === 'number' ? error.code : null;
          const detail = stderr || (typeof error.code === 'string' ? `${error.code}: ${error.message}` : error.message);
          reject(new CommandError(command, args, exitCode, detail));
          return;
        }
        resolve(stdout);
      });
    });
  },
};
