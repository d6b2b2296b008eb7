/**
 * Where the CLI keeps its files. As root (the usual case, because a tunnel needs CAP_NET_ADMIN):
 * profiles and secrets under /etc/lupina, the control socket and network journals under
 * /run/lupina. Other users get the XDG directories. LUPINA_CONFIG_DIR and LUPINA_RUNTIME_DIR
 * override both.
 */

import { homedir } from 'node:os';
import { join } from 'node:path';

export interface CliPaths {
  profiles: string;
  secrets: string;
  socket: string;
  journals: string;
}

export function cliPaths(environment: NodeJS.ProcessEnv = process.env): CliPaths {
  const root = process.getuid?.() === 0;
  const config = environment['LUPINA_CONFIG_DIR']
    ?? (root ? '/etc/lupina' : join(environment['XDG_CONFIG_HOME'] ?? join(homedir(), '.config'), 'lupina'));
  const runtime = environment['LUPINA_RUNTIME_DIR']
    ?? (root ? '/run/lupina' : join(environment['XDG_RUNTIME_DIR'] ?? join(homedir(), '.cache'), 'lupina'));
  return {
    profiles: join(config, 'profiles'),
    secrets: join(config, 'secrets'),
    socket: join(runtime, 'lupina.sock'),
    journals: join(runtime, 'network'),
  };
}
