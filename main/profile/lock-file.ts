/**
 * An advisory lock file that serializes check-then-write sequences of several processes (the CLI
 * and the app) on the same store directory. The lock is a file created with O_EXCL (`wx`) that
 * contains the holder's process id and a random token.
 */

import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

import { signalReaches } from '../net/process-liveness.js';

export class LockTimeoutError extends Error {
  constructor(readonly path: string, readonly holderPid: number | undefined, timeoutMs: number) {
    const holder = holderPid === undefined ? 'another process' : `process ${holderPid}`;
    super(`timed out after ${timeoutMs} ms waiting for the lock file ${path}, held by ${holder}; ` +
      'try again, or delete the file if no other Lupina process is running');
    this.name = 'LockTimeoutError';
  }
}

const RETRY_MS = 20;
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
/**
 * Age after which a lock counts as stale even when its process id is alive, because the id may
 * have been reused. The stores hold the lock for one read-check-write sequence of a few files.
 */
const STALE_MS = 60_000;

interface Holder {
  content: string;
  pid: number | undefined;
  ageMs: number;
}

/** Runs `action` while holding the lock file at `path`, and removes the lock afterwards. */
export async function withLockFile<T>(
  path: string, action: () => Promise<T>, timeoutMs = DEFAULT_LOCK_TIMEOUT_MS,
): Promise<T> {
  const token = await acquire(path, timeoutMs);
  let result: T;
  try {
    result = await action();
  } catch (error) {
    // The action's error matters more than a failed release; a later acquire breaks the lock once it is stale.
    await release(path, token).catch(() => undefined);
    throw error;
  }
  await release(path, token);
  return result;
}

async function acquire(path: string, timeoutMs: number): Promise<string> {
  const token = `${process.pid} ${randomBytes(8).toString('hex')}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await tryCreate(path, token)) {
      return token;
    }
    const holder = await readHolder(path);
    if (holder === undefined) {
      continue;
    }
    if (isStale(holder)) {
      await breakStaleLock(path, holder.content);
      continue;
    }
    if (Date.now() > deadline) {
      throw new LockTimeoutError(path, holder.pid, timeoutMs);
    }
    await delay(RETRY_MS);
  }
}

async function tryCreate(path: string, token: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return false;
    }
    throw error;
  }
  try {
    await handle.writeFile(token);
  } finally {
    await handle.close();
  }
  return true;
}

/** Reads the lock file; undefined when it vanished in the meantime. */
async function readHolder(path: string): Promise<Holder | undefined> {
  try {
    const [content, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    const pid = Number(content.split(' ')[0]);
    return { content, pid: Number.isSafeInteger(pid) && pid > 0 ? pid : undefined, ageMs: Date.now() - info.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined;
    }
    throw error;
  }
}

function isStale(holder: Holder): boolean {
  if (holder.ageMs > STALE_MS) {
    return true;
  }
  // A lock without a process id may be one that its creator has not written yet.
  return holder.pid !== undefined && !signalReaches(holder.pid);
}

/**
 * Removes a stale lock. The lock is first renamed to a unique name, so that of two processes
 * that find the same stale lock only one removes it. When the renamed file turns out to be a
 * newer lock than the stale one that was read, it is linked back in place.
 */
async function breakStaleLock(path: string, staleContent: string): Promise<void> {
  const moved = `${path}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(path, moved);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return;
    }
    throw error;
  }
  try {
    if ((await readFile(moved, 'utf8')) !== staleContent) {
      // NOTE: if a third process created a lock between the rename and this link, the link fails
      // and two processes hold the lock. That needs three processes within a few milliseconds of
      // a stale lock, so it is left unhandled.
      await link(moved, path).catch(() => undefined);
    }
  } finally {
    await rm(moved, { force: true });
  }
}

/** Removes the lock unless another process has broken it as stale and taken it over. */
async function release(path: string, token: string): Promise<void> {
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return;
    }
    throw error;
  }
  if (content === token) {
    await rm(path, { force: true });
  }
}
