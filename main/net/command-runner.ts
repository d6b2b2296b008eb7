/** Runs system commands such as `ip` without a shell, behind an interface that tests replace. */

import { execFile } from 'node:child_process';

/** A line of an `ip -force -batch` run that failed: its index in the batch and ip's error output. */
export interface BatchLineFailure {
  index: number;
  stderr: string;
}

export interface CommandRunner {
  /** Runs `command` with `args` and returns its standard output; rejects with CommandError. */
  run(command: string, args: readonly string[]): Promise<string>;
  /**
   * Runs `ip -force -batch -` over `lines`, one `ip` command without options per line, in one
   * process: every line runs even after a failure. Resolves with the lines that failed; rejects
   * with CommandError when ip fails without naming a line. Optional: without it, callers run
   * the commands one by one.
   */
  runIpBatch?(lines: readonly (readonly string[])[]): Promise<BatchLineFailure[]>;
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

/**
 * Reads the failures out of the error output of `ip -force -batch`, which prints each failing
 * line's messages followed by "Command failed FILE:LINE".
 */
export function parseBatchFailures(stderr: string): BatchLineFailure[] {
  const failures: BatchLineFailure[] = [];
  let messages: string[] = [];
  for (const line of stderr.split('\n')) {
    const failed = /^Command failed .*:(\d+)$/.exec(line.trim());
    if (failed) {
      failures.push({ index: Number(failed[1]) - 1, stderr: messages.join('\n') });
      messages = [];
    } else if (line.trim() !== '') {
      messages.push(line.trim());
    }
  }
  return failures;
}

export const systemCommandRunner: CommandRunner = {
  runIpBatch(lines) {
    const args = ['-force', '-batch', '-'];
    // ip splits batch lines at blanks and reads quotes and '#', so such an argument could turn
    // into another command.
    const unsafe = lines.flat().find((arg) => arg === '' || /[\s"'#\\]/.test(arg));
    if (unsafe !== undefined) {
      return Promise.reject(new CommandError('ip', args, null, `invalid batch argument ${JSON.stringify(unsafe)}`));
    }
    return new Promise((resolve, reject) => {
      const child = execFile('ip', args, { timeout: COMMAND_TIMEOUT_MS, encoding: 'utf8' }, (error, _stdout, stderr) => {
        const failures = parseBatchFailures(stderr);
        if (error && failures.length === 0) {
          const exitCode = typeof error.code === 'number' ? error.code : null;
          reject(new CommandError('ip', args, exitCode, stderr || error.message));
          return;
        }
        resolve(failures);
      });
      // An ip that fails to start closes stdin early; the callback above reports that.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(lines.map((line) => line.join(' ')).join('\n') + '\n');
    });
  },

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
