/**
 * `lupina connect` without a tunnel: the control socket (length limit, a running instance, a
 * stale socket), stops by signal while connecting, and how PROFILE picks a saved profile or a
 * file. The connects use a gateway on 127.0.0.1 that never responds, so no TUN device or route
 * is created.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lstat, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCliFolder, killStartedLupinas, runLupina, startLupina, unansweredProfile, type CliFolder } from './cli-process.js';

const TIMEOUT_MS = 20_000;
/** Time a signalled connect gets to tear down and exit; the IKE give-up time is 30 s. */
const STOP_TIMEOUT_MS = 10_000;

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, description: string): Promise<T> {
  const timeout = new Promise<T>((_resolve, reject) => {
    setTimeout(() => reject(new Error(`${description} took over ${timeoutMs} ms`)), timeoutMs).unref();
  });
  return Promise.race([promise, timeout]);
}

/** Leaves a socket file that nothing listens on, as a SIGKILLed lupina does. */
function createStaleSocket(path: string): Promise<void> {
  const script = `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`;
  return new Promise((resolve) => spawn(process.execPath, ['-e', script]).on('close', () => resolve()));
}

describe('lupina connect', () => {
  let folder: CliFolder;
  let profilePath: string;
  let socketPath: string;

  before(async () => {
    folder = await createCliFolder('lupina-connect-');
    profilePath = join(folder.directory, 'unanswered.conf');
    socketPath = join(folder.directory, 'run', 'lupina.sock');
    await writeFile(profilePath, unansweredProfile('unanswered'));
  });
  after(async () => {
    killStartedLupinas();
    await rm(folder.directory, { recursive: true, force: true });
  });

  function lupina(args: string[], options: { cwd?: string; environment?: NodeJS.ProcessEnv } = {}) {
    return runLupina(options.environment ?? folder.environment, args, { cwd: options.cwd, timeoutMs: TIMEOUT_MS });
  }

  /** Starts a connect of the unanswered profile and waits until it is connecting. */
  async function startConnecting(args: string[] = [profilePath]) {
    const run = startLupina(folder.environment, ['connect', ...args]);
    await run.waitForOutput(/: connecting$/m);
    return run;
  }

  it('socket path over 107 bytes fails', async () => {
    const runtime = join(folder.directory, 'r'.repeat(120));
    const environment = { ...folder.environment, LUPINA_RUNTIME_DIR: runtime };
    const result = await lupina(['connect', profilePath], { environment });
    assert.equal(result.signal, null, 'lupina connect hung after the control socket failed');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /over the 107-byte limit/);
    assert.match(result.stderr, /set LUPINA_RUNTIME_DIR to a shorter directory/);
    assert.equal(await exists(runtime), false, 'a truncated socket or its folder was left behind');
  });

  it('status with a long socket path explains', async () => {
    const environment = { ...folder.environment, LUPINA_RUNTIME_DIR: join(folder.directory, 'r'.repeat(120)) };
    const result = await lupina(['status'], { environment });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /LUPINA_RUNTIME_DIR/);
  });

  it('second connect keeps the running socket', async () => {
    await mkdir(join(folder.directory, 'run'), { recursive: true });
    const server: Server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const result = await lupina(['connect', profilePath]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`another lupina connect is running \\(socket ${socketPath}\\)`));
      assert.equal((await lstat(socketPath)).isSocket(), true, 'the running socket was removed');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('connect replaces a stale socket', async () => {
    await mkdir(join(folder.directory, 'run'), { recursive: true });
    await createStaleSocket(socketPath);
    assert.equal((await lstat(socketPath)).isSocket(), true);
    const run = await startConnecting();
    const status = await lupina(['status']);
    assert.equal(status.code, 0, status.stderr);
    run.child.kill('SIGINT');
    await withTimeout(run.exit, STOP_TIMEOUT_MS, 'stop after SIGINT');
    assert.equal(await exists(socketPath), false);
  });

  it('connect keeps a non-socket file', async () => {
    await mkdir(join(folder.directory, 'run'), { recursive: true });
    await writeFile(socketPath, 'not a socket');
    try {
      const result = await lupina(['connect', profilePath]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /exists and is not a socket/);
      assert.equal((await lstat(socketPath)).isFile(), true);
    } finally {
      await rm(socketPath, { force: true });
    }
  });

  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    it(`${signal} aborts a connect`, async () => {
      const run = await startConnecting();
      const started = Date.now();
      run.child.kill(signal);
      const exit = await withTimeout(run.exit, STOP_TIMEOUT_MS, `stop after ${signal}`);
      assert.deepEqual(exit, { code, signal: null }, run.stderr());
      assert.ok(Date.now() - started < STOP_TIMEOUT_MS);
      assert.match(run.stdout(), new RegExp(`connect aborted \\(stopped by ${signal}\\)`));
      assert.match(run.stdout(), /: disconnected: connect aborted/);
      assert.match(run.stderr(), new RegExp(`connect to "unanswered" aborted \\(stopped by ${signal}\\)`));
      assert.equal(await exists(socketPath), false, 'the control socket was left behind');
    });
  }

  it('second signal does not cut tear-down', async () => {
    const run = await startConnecting();
    // Node may handle two pending signals in either order; the first one sets the exit status.
    run.child.kill('SIGINT');
    run.child.kill('SIGTERM');
    const exit = await withTimeout(run.exit, STOP_TIMEOUT_MS, 'stop after two signals');
    assert.equal(exit.signal, null, `lupina was killed by ${exit.signal}`);
    assert.ok(exit.code === 130 || exit.code === 143, `exit status ${exit.code}:\n${run.stderr()}`);
    const second = exit.code === 130 ? 'SIGTERM' : 'SIGINT';
    assert.match(run.stderr(), new RegExp(`${second} received while stopping; the tear-down continues`));
    assert.equal(await exists(socketPath), false);
  });

  it('status while connecting omits the device', async () => {
    const run = await startConnecting();
    try {
      const text = await lupina(['status']);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /^unanswered: connecting since /);
      assert.doesNotMatch(text.stdout, /device/);
      assert.doesNotMatch(text.stdout, /MTU/);
      const json = await lupina(['status', '--json']);
      const output = JSON.parse(json.stdout);
      assert.equal(output.state.status, 'connecting');
      assert.equal(output.device, null);
      assert.equal(output.mtu, null);
    } finally {
      run.child.kill('SIGTERM');
      await withTimeout(run.exit, STOP_TIMEOUT_MS, 'stop after SIGTERM');
    }
  });

  it('--verbose prints debug lines', async () => {
    const quiet = await lupina(['connect', 'no-such-profile']);
    assert.doesNotMatch(quiet.stdout, / debug /);
    const verbose = await lupina(['connect', 'no-such-profile', '--verbose']);
    assert.equal(verbose.code, 1);
    assert.match(verbose.stdout, / debug cli: control socket listening on /);
  });

  describe('PROFILE argument', () => {
    let workingDirectory: string;

    before(async () => {
      workingDirectory = join(folder.directory, 'cwd');
      await mkdir(workingDirectory);
      const imported = await lupina(['import', profilePath]);
      assert.equal(imported.code, 0, imported.stderr);
      // A file with the saved profile's name that is no valid profile.
      await writeFile(join(workingDirectory, 'unanswered'), 'not a profile\n');
      await writeFile(join(workingDirectory, 'other'), unansweredProfile('other'));
      await writeFile(join(workingDirectory, 'with-extension.conf'), 'not a profile\n');
    });

    async function connectThenStop(argument: string) {
      const run = startLupina(folder.environment, ['connect', argument], { cwd: workingDirectory });
      await run.waitForOutput(/: connecting$/m);
      run.child.kill('SIGINT');
      await withTimeout(run.exit, STOP_TIMEOUT_MS, 'stop after SIGINT');
      return run.stdout();
    }

    it('saved profile wins over a file', async () => {
      const stdout = await connectThenStop('unanswered');
      assert.match(stdout, /using the saved profile "unanswered" \(id [0-9a-f-]+\)/);
    });

    it('slash names the file', async () => {
      const result = await lupina(['connect', './unanswered'], { cwd: workingDirectory });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /profile file \.\/unanswered cannot be connected/);
    });

    it('extension names the file', async () => {
      const result = await lupina(['connect', 'with-extension.conf'], { cwd: workingDirectory });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /profile file with-extension\.conf cannot be connected/);
    });

    it('missing file with extension', async () => {
      const result = await lupina(['connect', 'missing.conf'], { cwd: workingDirectory });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /profile file not found: missing\.conf/);
    });

    it('unknown name falls back to a file', async () => {
      const stdout = await connectThenStop('other');
      assert.match(stdout, /no saved profile is named "other", so the file \.\/other is used/);
      assert.match(stdout, /using the profile file other \(swanctl format, not saved\)/);
    });
  });
});
