/**
 * Where the CLI keeps its files. As root (the usual case, because a tunnel needs CAP_NET_ADMIN):
 * profiles and secrets under /etc/lupina, the control socket and network journals under
 * /run/lupina. Other users get the XDG directories. LUPINA_CONFIG_DIR and LUPINA_RUNTIME_DIR
 * override both. An empty variable counts as unset, as the XDG Base Directory specification
 * specifies for its own variables.
 */

import { homedir } from 'node:os';
import { join } from 'node:path';

export interface CliPaths {
  profiles: string;
  secrets: string;
  socket: string;
  journals: string;
}

/** Returns the paths for `environment`; `root` picks the system-wide defaults. */
export function cliPaths(environment: NodeJS.ProcessEnv = process.env, root = process.getuid?.() === 0): CliPaths {
  const config = setting(environment, 'LUPINA_CONFIG_DIR')
    ?? (root ? '/etc/lupina' : join(setting(environment, 'XDG_CONFIG_HOME') ?? join(homedir(), '.config'), 'lupina'));
  const runtime = setting(environment, 'LUPINA_RUNTIME_DIR')
    ?? (root ? '/run/lupina' : join(setting(environment, 'XDG_RUNTIME_DIR') ?? join(homedir(), '.cache'), 'lupina'));
  return {
    profiles: join(config, 'profiles'),
    secrets: join(config, 'secrets'),
    socket: join(runtime, 'lupina.sock'),
    journals: join(runtime, 'network'),
  };
}

/** Returns the variable's value, or undefined when it is unset or empty. */
function setting(environment: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = environment[name];
  return value === undefined || value === '' ? undefined : value;
}
