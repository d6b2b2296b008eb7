/**
 * node-forge, loaded on first use. Only PKCS#12 files and signed mobileconfig profiles need it,
 * and loading it with the importers added about 10 ms to each command that reads a profile
 * file (node --cpu-prof of `lupina connect FILE` on the 2-vCPU benchmark VM).
 */

import type Forge from 'node-forge';

let loaded: typeof Forge | undefined;

export async function loadForge(): Promise<typeof Forge> {
  loaded ??= (await import('node-forge')).default;
  return loaded;
}
