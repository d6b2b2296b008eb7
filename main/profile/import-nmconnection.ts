/**
 * Imports NetworkManager keyfiles (`.nmconnection`) of the strongSwan VPN plugin
 * (`service-type=org.freedesktop.NetworkManager.strongswan`). Certificate and key paths are read
 * through `options.readFile`, relative to the keyfile's directory.
 */

import { CertificateError, isEncryptedPrivateKey, loadPrivateKey, readCertificates } from './certificates.js';
import {
  chooseProfileId, finishImport, fullTunnelSelectors, readIdentityField, readSelectors,
  SecretBag, settleProposals, splitList,
} from './import-common.js';
import { REDACTED, type ImportOptions, type ImportResult, type IssueLog } from './import-result.js';
import { DEFAULT_IKE_PORT, newIkev2Profile, type Profile } from './model.js';
import { MAX_PASSWORD_ATTEMPTS } from './pkcs12.js';
import { parseProposals } from './proposal.js';
import { isValidHost } from './validate.js';

export const STRONGSWAN_SERVICE = 'org.freedesktop.NetworkManager.strongswan';
const MAX_REFERENCED_FILE_BYTES = 256 * 1024;

interface KeyfileEntry {
  value: string;
  line: number;
}
type Keyfile = Map<string, Map<string, KeyfileEntry>>;

const VPN_KEYS = [
  'service-type', 'address', 'server-port', 'certificate', 'remote-identity', 'local-identity',
  'method', 'usercert', 'userkey', 'user', 'virtual', 'encap', 'ipcomp', 'proposal', 'ike', 'esp',
  'local-ts', 'remote-ts', 'password-flags', 'cert-source', 'server-certificate-issuer-cn',
];

/** True when the text is a keyfile with a [connection] and a [vpn] group. */
export function looksLikeNmConnection(text: string): boolean {
  return /^\s*\[connection\]\s*$/m.test(text) && /^\s*\[vpn\]\s*$/m.test(text);
}

/** Parses GLib keyfile syntax: `[group]`, `key=value`, `#` comments, backslash escapes. */
export function parseKeyfile(text: string, log: IssueLog): Keyfile {
  const groups: Keyfile = new Map();
  let current: Map<string, KeyfileEntry> | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) {
      return;
    }
    const group = /^\[([^\]]+)\]$/.exec(trimmed);
    if (group) {
      current = groups.get(group[1]!) ?? new Map();
      groups.set(group[1]!, current);
      return;
    }
    const setting = /^([A-Za-z0-9_.-]+(?:\[[^\]]*\])?)\s*=\s*(.*)$/.exec(raw.trimStart());
    // The line is not shown, because it may contain a password from [vpn-secrets].
    if (!setting) {
      log.error(`line ${line}`, 'expected [group] or key=value; check the line for a missing "=" or a ' +
        'value that continues from the line before');
      return;
    }
    if (!current) {
      log.error(`line ${line}`, `the setting "${setting[1]}" comes before the first [group]; move it into ` +
        'its group');
      return;
    }
    current.set(setting[1]!, { value: unescapeKeyfile(setting[2]!.trimEnd()), line });
  });
  return groups;
}

function unescapeKeyfile(value: string): string {
  return value.replace(/\\([sntr\\])/g, (_, code: string) =>
    ({ s: ' ', n: '\n', t: '\t', r: '\r', '\\': '\\' })[code]!);
}

export async function importNmConnection(text: string, options: ImportOptions, log: IssueLog): Promise<ImportResult> {
  const keyfile = parseKeyfile(text, log);
  const connection = keyfile.get('connection') ?? new Map<string, KeyfileEntry>();
  const vpn = keyfile.get('vpn') ?? new Map<string, KeyfileEntry>();
  const secretsGroup = keyfile.get('vpn-secrets') ?? new Map<string, KeyfileEntry>();

  const type = connection.get('type')?.value;
  if (type !== 'vpn') {
    log.fail('connection.type', 'expected a VPN connection (type=vpn)', type);
  }
  const service = vpn.get('service-type')?.value;
  if (service !== STRONGSWAN_SERVICE) {
    log.fail('vpn.service-type', `only IKEv2 connections of the strongSwan plugin (${STRONGSWAN_SERVICE}) are ` +
      'supported; L2TP, PPTP, libreswan (IKEv1) and other plugins cannot be imported', service);
  }
  for (const key of vpn.keys()) {
    if (!VPN_KEYS.includes(key)) {
      // Unknown keys may contain secrets (such as a password outside [vpn-secrets]), so no value is shown.
      log.warn(`vpn.${key}`, `"${key}" is not supported by Lupina and was ignored`);
    }
  }

  const address = vpn.get('address')?.value.trim() ?? '';
  if (!isValidHost(address)) {
    log.fail('vpn.address', 'missing or invalid gateway address', address);
  }
  const portText = vpn.get('server-port')?.value;
  const port = portText === undefined ? DEFAULT_IKE_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    log.fail('vpn.server-port', 'expected a port from 1 to 65535', portText);
  }
  const uuid = connection.get('uuid')?.value.toLowerCase();
  const id = uuid && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(uuid)
    ? uuid : chooseProfileId(options);
  const name = connection.get('id')?.value.trim() || address;
  const profile = newIkev2Profile(id, name.slice(0, 256), { address, port, preferIpv6: false });
  const secrets = new SecretBag(id);

  readIdentities(vpn, profile, log);
  await readMethod(vpn, secretsGroup, profile, secrets, options, log);
  await readGatewayCertificate(vpn, profile, options, log);
  readNetworkOptions(vpn, keyfile, profile, log);

  return finishImport(profile, secrets, log, 'nmconnection');
}

function readIdentities(vpn: Map<string, KeyfileEntry>, profile: Profile, log: IssueLog): void {
  const local = readIdentityField(vpn.get('local-identity')?.value, log, 'vpn.local-identity');
  const remote = readIdentityField(vpn.get('remote-identity')?.value, log, 'vpn.remote-identity');
  if (local) {
    profile.identities.local = local;
  }
  if (remote) {
    profile.identities.remote = remote;
  }
}

async function readMethod(
  vpn: Map<string, KeyfileEntry>, secretsGroup: Map<string, KeyfileEntry>, profile: Profile,
  secrets: SecretBag, options: ImportOptions, log: IssueLog,
): Promise<void> {
  const authentication = profile.authentication!;
  const method = vpn.get('method')?.value ?? 'eap';
  const password = secretsGroup.get('password')?.value;

  switch (method) {
    case 'eap': {
      authentication.method = 'eap-mschapv2';
      const user = readIdentityField(vpn.get('user')?.value, log, 'vpn.user');
      if (user) {
        profile.identities.eap = user;
      }
      if (password) {
        authentication.eapPasswordRef = secrets.add('eap-password', password);
      }
      log.warn('vpn.method', 'the NetworkManager plugin lets the gateway choose the EAP method; ' +
        'Lupina uses EAP-MSCHAPv2', method);
      break;
    }
    case 'psk':
      authentication.method = 'psk';
      authentication.remoteMethod = 'psk';
      if (password) {
        authentication.pskRef = secrets.add('psk', password);
      } else {
        log.warn('vpn-secrets.password', 'the file contains no pre-shared key; enter it before connecting');
      }
      break;
    case 'key':
      authentication.method = 'certificate';
      await readClientCertificateFiles(vpn, password, profile, secrets, options, log);
      break;
    case 'agent':
    case 'smartcard':
      log.fail('vpn.method', `"${method}" keeps the private key in ${method === 'agent' ? 'ssh-agent' : 'a smart card'}, ` +
        'which Lupina cannot use yet; export the certificate and key to files and use method=key', method);
      break;
    default:
      log.fail('vpn.method', 'expected key, agent, smartcard, eap or psk', method);
  }
}

async function readReferencedFile(
  path: string, options: ImportOptions, log: IssueLog, field: string,
): Promise<Uint8Array | undefined> {
  if (!options.readFile) {
    log.error(field, 'the profile refers to a file, but no file reader was given; import the file ' +
      'from disk so that Lupina can read the files next to it', path);
    return undefined;
  }
  let data: Uint8Array;
  try {
    data = await options.readFile(path);
  } catch (error) {
    log.error(field, `could not read the file: ${(error as Error).message}`, path);
    return undefined;
  }
  if (data.length > MAX_REFERENCED_FILE_BYTES) {
    log.error(field, `the file is larger than ${MAX_REFERENCED_FILE_BYTES} bytes; it is not a certificate or key`, path);
    return undefined;
  }
  return data;
}

async function readClientCertificateFiles(
  vpn: Map<string, KeyfileEntry>, password: string | undefined, profile: Profile,
  secrets: SecretBag, options: ImportOptions, log: IssueLog,
): Promise<void> {
  const certificatePath = vpn.get('usercert')?.value;
  const keyPath = vpn.get('userkey')?.value;
  if (!certificatePath || !keyPath) {
    log.fail(certificatePath ? 'vpn.userkey' : 'vpn.usercert', 'method=key needs both usercert and userkey');
  }
  const certificate = await readReferencedFile(certificatePath, options, log, 'vpn.usercert');
  const key = await readReferencedFile(keyPath, options, log, 'vpn.userkey');
  if (!certificate || !key) {
    return;
  }
  try {
    profile.clientCertificate = readCertificates(certificate)[0];
  } catch (error) {
    if (!(error instanceof CertificateError)) {
      throw error;
    }
    log.error('vpn.usercert', `${error.message}; check the certificate file`, certificatePath);
    return;
  }
  const pkcs8 = await decryptPrivateKey(key, password, keyPath, options, log, 'vpn.userkey');
  if (pkcs8) {
    profile.authentication!.privateKeyRef = secrets.add('private-key', pkcs8);
  }
}

/** Loads a private key file, asking for the passphrase when it is encrypted. */
export async function decryptPrivateKey(
  data: Uint8Array, passphrase: string | undefined, fileName: string, options: ImportOptions,
  log: IssueLog, path: string,
): Promise<Uint8Array | undefined> {
  if (!isEncryptedPrivateKey(data)) {
    try {
      return loadPrivateKey(data).pkcs8;
    } catch (error) {
      log.error(path, `the private key could not be read (${(error as Error).message})`, fileName);
      return undefined;
    }
  }
  let candidate = passphrase;
  for (let attempt = 1; attempt <= MAX_PASSWORD_ATTEMPTS + 1; attempt++) {
    if (candidate !== undefined) {
      try {
        return loadPrivateKey(data, candidate).pkcs8;
      } catch {
        // A wrong passphrase: ask again below.
      }
    }
    if (attempt > MAX_PASSWORD_ATTEMPTS) {
      break;
    }
    candidate = await options.passwords?.({
      kind: 'private-key',
      label: `the passphrase of the private key ${fileName}`,
      attempt,
    });
    if (candidate === undefined) {
      log.error(path, 'the private key is encrypted and no passphrase was given', fileName);
      return undefined;
    }
  }
  log.error(path, `wrong passphrase for the private key after ${MAX_PASSWORD_ATTEMPTS} attempts`, REDACTED);
  return undefined;
}

async function readGatewayCertificate(
  vpn: Map<string, KeyfileEntry>, profile: Profile, options: ImportOptions, log: IssueLog,
): Promise<void> {
  const path = vpn.get('certificate')?.value;
  if (!path) {
    log.warn('vpn.certificate', 'no gateway or CA certificate is configured; the gateway certificate ' +
      'must then chain to a CA that you add before connecting');
    return;
  }
  const data = await readReferencedFile(path, options, log, 'vpn.certificate');
  if (!data) {
    return;
  }
  try {
    profile.trustedCaCertificates.push(...readCertificates(data));
  } catch (error) {
    if (!(error instanceof CertificateError)) {
      throw error;
    }
    log.error('vpn.certificate', `${error.message}; check the certificate file`, path);
  }
}

function readNetworkOptions(vpn: Map<string, KeyfileEntry>, keyfile: Keyfile, profile: Profile, log: IssueLog): void {
  const yes = (key: string) => vpn.get(key)?.value === 'yes' || vpn.get(key)?.value === 'true';
  profile.virtualIps = yes('virtual') ? ['0.0.0.0'] : [];
  profile.forceUdpEncapsulation = yes('encap');
  if (yes('ipcomp')) {
    log.warn('vpn.ipcomp', 'IP compression is not supported by Lupina and was turned off', 'yes');
  }
  if (yes('proposal')) {
    const ike = vpn.get('ike')?.value;
    const esp = vpn.get('esp')?.value;
    profile.ikeProposals = settleProposals(ike ? parseProposals(ike, 'ike', log, 'vpn.ike') : undefined, 'ike', log, 'vpn.ike');
    profile.espProposals = settleProposals(esp ? parseProposals(esp, 'esp', log, 'vpn.esp') : undefined, 'esp', log, 'vpn.esp');
  } else {
    profile.ikeProposals = settleProposals(undefined, 'ike', log, 'vpn.ike');
    profile.espProposals = settleProposals(undefined, 'esp', log, 'vpn.esp');
  }

  const remoteTs = readSelectors(splitList(vpn.get('remote-ts')?.value ?? ''), log, 'vpn.remote-ts');
  profile.trafficSelectors.remote = remoteTs.length > 0 ? remoteTs : fullTunnelSelectors();
  profile.trafficSelectors.local = readSelectors(splitList(vpn.get('local-ts')?.value ?? ''), log, 'vpn.local-ts');

  for (const family of ['ipv4', 'ipv6']) {
    const group = keyfile.get(family);
    const servers = splitList(group?.get('dns')?.value ?? '');
    for (const server of servers) {
      if (/^[0-9a-f.:]+$/i.test(server) && isValidHost(server)) {
        profile.dns.servers.push(server);
      } else {
        log.error(`${family}.dns`, 'expected IP addresses separated by ";"', server);
      }
    }
    for (const domain of splitList(group?.get('dns-search')?.value ?? '')) {
      if (isValidHost(domain.replace(/^~/, ''))) {
        profile.dns.searchDomains.push(domain.replace(/^~/, ''));
      } else {
        log.error(`${family}.dns-search`, 'expected domain names separated by ";"', domain);
      }
    }
  }
}
