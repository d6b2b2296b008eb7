/**
 * Whether a process that left a journal, a resolv.conf marker or a lock file still runs. Linux
 * reuses pids, so a process is identified by its pid and its start time in /proc/PID/stat.
 */

import { readFile } from 'node:fs/promises';

/** A process as Linux identifies it over time: the pid and, where known, its start time. */
export interface ProcessIdentity {
  pid: number;
  /** Clock ticks after boot, field 22 of /proc/PID/stat. */
  startTime?: string;
}

interface ProcessStat {
  /** One letter, such as R, S or D; Z for a zombie and X for a dead process. */
  state: string;
  startTime: string;
}

/** Index of starttime (field 22) among the fields that follow the command name (field 2). */
const STAT_START_TIME_INDEX = 22 - 3;

/**
 * Reads the state and the start time from /proc/PID/stat. Returns null when the process does not
 * exist, and throws when /proc cannot be read.
 */
async function readProcessStat(pid: number): Promise<ProcessStat | null> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') {
      return null;
    }
    throw error;
  }
  // The command name (field 2) is in parentheses and may contain spaces and parentheses itself.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTime = fields[STAT_START_TIME_INDEX];
  if (!state || !startTime || !/^\d+$/.test(startTime)) {
    throw new Error(`unexpected format of /proc/${pid}/stat`);
  }
  return { state, startTime };
}

let ownIdentityPromise: Promise<ProcessIdentity> | null = null;

/** Returns this process's pid and start time, read once. */
export function ownIdentity(): Promise<ProcessIdentity> {
  ownIdentityPromise ??= readProcessStat(process.pid).then(
    (stat) => (stat ? { pid: process.pid, startTime: stat.startTime } : { pid: process.pid }),
    () => ({ pid: process.pid }),
  );
  return ownIdentityPromise;
}

/** Returns whether signal 0 reaches the pid, the only check left without /proc. */
export function signalReaches(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Returns whether the process still runs. A zombie counts as ended, and so does a process whose
 * start time differs from the recorded one, because its pid was reused. Without a recorded start
 * time only the pid is checked, and our own pid then belongs to an earlier process.
 */
export async function processRuns(owner: ProcessIdentity): Promise<boolean> {
  if (owner.pid <= 0) {
    return false;
  }
  let stat: ProcessStat | null;
  try {
    stat = await readProcessStat(owner.pid);
  } catch {
    return owner.pid !== process.pid && signalReaches(owner.pid);
  }
  if (stat === null || stat.state === 'Z' || stat.state === 'X') {
    return false;
  }
  if (owner.startTime === undefined) {
    return owner.pid !== process.pid;
  }
  return stat.startTime === owner.startTime;
}
