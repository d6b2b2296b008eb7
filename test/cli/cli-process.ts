/** Runs the `lupina` command as a child process for the CLI tests, with its own config and runtime folders. */

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LUPINA = fileURLToPath(new URL('../../bin/lupina.js', import.meta.url));
export const SAMPLES = fileURLToPath(new URL('../profile/samples/', import.meta.url));

export interface RunResult {
  /** Exit status, or null when a signal (such as the timeout's SIGKILL) ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliFolder {
  directory: string;
  environment: NodeJS.ProcessEnv;
}

export async function createCliFolder(prefix: string): Promise<CliFolder> {
  const directory = await mkdtemp(join(tmpdir(), prefix));
  return {
    directory,
    environment: { ...process.env, LUPINA_CONFIG_DIR: join(directory, 'config'), LUPINA_RUNTIME_DIR: join(directory, 'run') },
  };
}

/** Runs `lupina ARGS` to the end; a run longer than `timeoutMs` is killed and reports signal SIGKILL. */
export function runLupina(
  environment: NodeJS.ProcessEnv, args: string[], options: { cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [LUPINA, ...args], {
      // SIGKILL, because a hung lupina may handle SIGTERM and keep running.
      env: environment, cwd: options.cwd, timeout: options.timeoutMs ?? 60_000, killSignal: 'SIGKILL',
    }, (_error, stdout, stderr) => {
      resolve({ code: child.exitCode, signal: child.signalCode, stdout, stderr });
    });
  });
}

/** A `lupina connect` that runs in the background. */
export interface BackgroundLupina {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout matches `pattern`; rejects when the process exits first or after `timeoutMs`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const startedChildren = new Set<ChildProcess>();

/** Kills every `startLupina` process that still runs, such as after a failed assertion. */
export function killStartedLupinas(): void {
  for (const child of startedChildren) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
    }
  }
  startedChildren.clear();
}

export function startLupina(environment: NodeJS.ProcessEnv, args: string[], options: { cwd?: string } = {}): BackgroundLupina {
  const child = spawn(process.execPath, [LUPINA, ...args], { env: environment, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  startedChildren.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exit,
    waitForOutput(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          clearInterval(poll);
          reject(new Error(`no output matching ${pattern} within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
        }, timeoutMs);
        const poll = setInterval(() => {
          if (pattern.test(stdout)) {
            clearInterval(poll);
            clearTimeout(timer);
            resolve();
          } else if (child.exitCode !== null || child.signalCode !== null) {
            clearInterval(poll);
            clearTimeout(timer);
            reject(new Error(`lupina exited before printing ${pattern}:\n${stdout}\n${stderr}`));
          }
        }, 20);
      });
    },
  };
}

/**
 * Returns a swanctl.conf profile whose gateway is 127.0.0.1 unless `gateway` names another,
 * where nothing responds to IKE, so `lupina connect` stays in the connecting state for the 30 s
 * retransmission give-up time. With the default it sends IKE_SA_INIT to the loopback address only.
 */
export function unansweredProfile(name: string, gateway = '127.0.0.1'): string {
  return `connections {
  ${name} {
    version = 2
    remote_addrs = ${gateway}
    local {
      auth = psk
      id = client@example.com
    }
    remote {
      auth = psk
      id = gateway.example.com
    }
    children {
      ${name} {
        remote_ts = 203.0.113.0/24
      }
    }
  }
}
secrets {
  ike-${name} {
    id = gateway.example.com
    secret = "a test key that no gateway knows"
  }
}
`;
}
