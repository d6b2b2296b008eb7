/**
 * Imports one road-warrior connection from a swanctl.conf (swanctl.conf(5)). Certificate and key
 * files are read through `options.readFile`, relative to the configuration file and to the
 * x509, x509ca and private folders that swanctl uses.
 */

import { CertificateError, readCertificates } from './certificates.js';
import {
  chooseProfileId, finishImport, fullTunnelSelectors, parseCount, parseDuration, readIdentityField,
  readSelectors, SecretBag, settleProposals, splitList,
} from './import-common.js';
import { REDACTED, type ImportOptions, type ImportResult, type IssueLog } from './import-result.js';
import { decryptPrivateKey } from './import-nmconnection.js';
import { newIkev2Profile, type AuthMethod, type Profile, type SaLifetime } from './model.js';
import { unpackPkcs12 } from './pkcs12.js';
import { parseProposals } from './proposal.js';
import {
  getSection, parseSettings, SettingsSyntaxError, type SettingsSection,
} from './swanctl-parser.js';
import { isValidHost } from './validate.js';

const CONNECTION_KEYS = [
  'version', 'remote_addrs', 'remote_port', 'local_addrs', 'vips', 'proposals', 'encap', 'dpd_delay',
  'rekey_time', 'over_time', 'reauth_time', 'send_certreq', 'mobike', 'fragmentation', 'keyingtries',
  'unique', 'dpd_timeout', 'send_cert',
];
const IGNORED_CONNECTION_KEYS = [
  'local_addrs', 'over_time', 'reauth_time', 'mobike', 'fragmentation', 'keyingtries', 'unique',
  'dpd_timeout', 'send_cert',
];
const IGNORED_CHILD_KEYS = ['start_action', 'dpd_action', 'close_action'];
const CHILD_KEYS = [
  'remote_ts', 'local_ts', 'esp_proposals', 'rekey_time', 'life_time', 'rekey_bytes', 'life_bytes',
  'rekey_packets', 'life_packets', 'mode', 'start_action', 'dpd_action', 'close_action',
];

/** True when the text has a top-level `connections {` section. */
export function looksLikeSwanctl(text: string): boolean {
  return /^\s*connections\s*\{/m.test(text);
}

export async function importSwanctl(text: string, options: ImportOptions, log: IssueLog): Promise<ImportResult> {
  let root: SettingsSection;
  try {
    const parsed = parseSettings(text);
    root = parsed.root;
    for (const include of parsed.includes) {
      log.warn(`line ${include.line}`, 'include statements are not followed, so settings in the ' +
        'included file are missing; paste them into this file if they are needed', include.value);
    }
    for (const duplicate of parsed.duplicates) {
      log.warn(`line ${duplicate.line}`, `"${duplicate.value}" is given twice; the later value is used`);
    }
  } catch (error) {
    if (error instanceof SettingsSyntaxError) {
      log.fail(`line ${error.line}`, `${error.message}; the file is not valid swanctl.conf syntax`);
    }
    throw error;
  }

  const [connectionName, connection] = chooseConnection(root, options, log);
  const path = `connections.${connectionName}`;
  const setting = (key: string) => connection.settings.get(key)?.value;
  warnConnectionKeys(connection, path, log);

  const version = setting('version') ?? '0';
  if (version === '1') {
    log.fail(`${path}.version`, 'only IKEv2 is supported; this connection uses IKEv1', version);
  }
  const addresses = splitList(setting('remote_addrs') ?? '');
  const address = addresses[0];
  if (!address || !isValidHost(address)) {
    log.fail(`${path}.remote_addrs`, 'a road-warrior connection needs the gateway address', setting('remote_addrs'));
  }
  if (addresses.length > 1) {
    log.warn(`${path}.remote_addrs`, 'only the first gateway address is used', setting('remote_addrs'));
  }
  const port = Number(setting('remote_port') ?? '500');
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    log.fail(`${path}.remote_port`, 'expected a port from 1 to 65535', setting('remote_port'));
  }

  const id = chooseProfileId(options);
  const profile = newIkev2Profile(id, connectionName, { address, port, preferIpv6: false });
  const secrets = new SecretBag(id);

  readConnectionOptions(connection, path, profile, log);
  await readAuthRounds(connection, path, profile, secrets, options, log);
  readChild(connection, path, profile, log);
  await readSecrets(getSection(root, 'secrets'), profile, secrets, options, log);

  return finishImport(profile, secrets, log, 'swanctl');
}

function chooseConnection(
  root: SettingsSection, options: ImportOptions, log: IssueLog,
): [string, SettingsSection] {
  const connections = getSection(root, 'connections');
  const names = [...(connections?.sections.keys() ?? [])];
  if (!connections || names.length === 0) {
    log.fail('connections', 'the file defines no connection');
  }
  if (options.connectionName !== undefined) {
    const chosen = connections.sections.get(options.connectionName);
    if (!chosen) {
      log.fail('connections', `no connection named "${options.connectionName}"; the file defines ${names.join(', ')}`);
    }
    return [options.connectionName, chosen];
  }
  if (names.length > 1) {
    log.fail('connections', `the file defines ${names.length} connections (${names.join(', ')}); ` +
      'choose one by name');
  }
  return [names[0]!, connections.sections.get(names[0]!)!];
}

function warnConnectionKeys(connection: SettingsSection, path: string, log: IssueLog): void {
  for (const [key, entry] of connection.settings) {
    warnIgnoredKey(key, entry.value, CONNECTION_KEYS, IGNORED_CONNECTION_KEYS, `${path}.${key}`, log);
  }
  for (const name of connection.sections.keys()) {
    if (!/^(local|remote)(-?\w+)?$/.test(name) && name !== 'children') {
      log.warn(`${path}.${name}`, `the section "${name}" is not supported by Lupina and was ignored`);
    }
  }
}

/**
 * Warns about a key that is not imported. The value is shown only for keys that Lupina recognizes,
 * because an unknown key may be a secret in the wrong section.
 */
function warnIgnoredKey(
  key: string, value: string, known: string[], ignored: string[], path: string, log: IssueLog,
): void {
  if (!known.includes(key)) {
    log.warn(path, `"${key}" is not supported by Lupina and was ignored`);
  } else if (ignored.includes(key)) {
    log.warn(path, `"${key}" is not supported by Lupina and was ignored`, value);
  }
}

function readConnectionOptions(connection: SettingsSection, path: string, profile: Profile, log: IssueLog): void {
  const setting = (key: string) => connection.settings.get(key)?.value;
  const proposals = setting('proposals');
  profile.ikeProposals = settleProposals(proposals === undefined ? undefined
    : parseProposals(proposals, 'ike', log, `${path}.proposals`), 'ike', log, `${path}.proposals`);

  const vips = splitList(setting('vips') ?? '');
  for (const vip of vips) {
    if (vip !== '0.0.0.0' && vip !== '::') {
      log.warn(`${path}.vips`, 'a specific virtual IP is only a wish; the gateway assigns the address', vip);
    }
  }
  profile.virtualIps = vips.map((vip) => (vip.includes(':') ? '::' : '0.0.0.0'))
    .filter((vip, index, all) => all.indexOf(vip) === index);
  profile.forceUdpEncapsulation = setting('encap') === 'yes';
  profile.authentication!.certificateRequests = setting('send_certreq') !== 'no';

  const durations: Array<[string, (seconds: number) => void]> = [
    ['dpd_delay', (seconds) => { profile.dpdSeconds = seconds; }],
    ['rekey_time', (seconds) => { profile.lifetimes.ike.rekeySeconds = seconds; }],
  ];
  for (const [key, apply] of durations) {
    const text = setting(key);
    if (text === undefined) {
      continue;
    }
    const seconds = parseDuration(text);
    if (seconds === undefined || seconds > 86400 * 365) {
      log.error(`${path}.${key}`, 'expected a time such as 30s, 10m, 4h or 1d', text);
      continue;
    }
    if (seconds > 0) {
      apply(seconds);
    }
  }
}

const AUTH_NAMES: Record<string, AuthMethod | undefined> = {
  pubkey: 'certificate',
  rsa: 'certificate',
  ecdsa: 'certificate',
  psk: 'psk',
  'eap-mschapv2': 'eap-mschapv2',
  'eap-tls': 'eap-tls',
  eap: 'eap-mschapv2',
};

async function readAuthRounds(
  connection: SettingsSection, path: string, profile: Profile, secrets: SecretBag,
  options: ImportOptions, log: IssueLog,
): Promise<void> {
  const authentication = profile.authentication!;
  const rounds = (side: 'local' | 'remote') => [...connection.sections.entries()]
    .filter(([name]) => name.startsWith(side))
    .sort(([a], [b]) => a.localeCompare(b));

  const localRounds = rounds('local');
  const methods: AuthMethod[] = [];
  for (const [name, round] of localRounds) {
    const roundPath = `${path}.${name}`;
    const auth = round.settings.get('auth')?.value ?? 'pubkey';
    const method = readAuthName(auth, roundPath, log);
    if (method) {
      methods.push(method);
    }
    const id = readIdentityField(round.settings.get('id')?.value, log, `${roundPath}.id`);
    if (id && !profile.identities.local) {
      profile.identities.local = id;
    }
    const eapId = readIdentityField(round.settings.get('eap_id')?.value, log, `${roundPath}.eap_id`);
    if (eapId) {
      profile.identities.eap = eapId;
    }
    const certs = splitList(round.settings.get('certs')?.value ?? '');
    if (certs[0]) {
      const pems = await readCertificateFile(certs[0], ['', 'x509/'], options, log, `${roundPath}.certs`);
      profile.clientCertificate = pems?.[0];
    }
  }
  authentication.method = combineMethods(methods, path, log);

  for (const [name, round] of rounds('remote')) {
    const roundPath = `${path}.${name}`;
    const auth = round.settings.get('auth')?.value ?? 'pubkey';
    authentication.remoteMethod = auth === 'psk' ? 'psk' : 'certificate';
    if (auth !== 'psk' && AUTH_NAMES[auth] !== 'certificate') {
      log.warn(`${roundPath}.auth`, 'the gateway is expected to authenticate with a certificate or PSK', auth);
    }
    const id = readIdentityField(round.settings.get('id')?.value, log, `${roundPath}.id`);
    if (id) {
      profile.identities.remote = id;
    }
    for (const key of ['cacerts', 'certs']) {
      for (const file of splitList(round.settings.get(key)?.value ?? '')) {
        const pems = await readCertificateFile(file, ['', 'x509ca/', 'x509/'], options, log, `${roundPath}.${key}`);
        profile.trustedCaCertificates.push(...(pems ?? []));
      }
    }
    if (round.settings.has('pubkeys')) {
      log.warn(`${roundPath}.pubkeys`, 'raw public keys are not supported; the gateway must present a ' +
        'certificate that chains to a trusted CA', round.settings.get('pubkeys')?.value);
    }
    const revocation = round.settings.get('revocation')?.value;
    if (revocation === 'strict') {
      authentication.revocation.strict = true;
    }
  }
}

function readAuthName(auth: string, path: string, log: IssueLog): AuthMethod | undefined {
  if (auth.startsWith('xauth')) {
    log.fail(`${path}.auth`, 'only IKEv2 is supported; XAuth belongs to IKEv1', auth);
  }
  const method = AUTH_NAMES[auth.split('-sha')[0]!] ?? AUTH_NAMES[auth];
  if (!method) {
    log.error(`${path}.auth`, 'unsupported authentication; use pubkey, psk, eap-mschapv2 or eap-tls', auth);
    return undefined;
  }
  if (auth === 'eap') {
    log.warn(`${path}.auth`, '"eap" lets the gateway choose the method; Lupina uses EAP-MSCHAPv2', auth);
  }
  return method;
}

function combineMethods(methods: AuthMethod[], path: string, log: IssueLog): AuthMethod {
  if (methods.length === 0) {
    return 'certificate';
  }
  if (methods.length === 1) {
    return methods[0]!;
  }
  if (methods.length === 2 && methods[0] === 'certificate' && methods[1] === 'eap-mschapv2') {
    return 'certificate+eap-mschapv2';
  }
  log.fail(`${path}.local`, `the authentication rounds ${methods.join(' then ')} are not supported; ` +
    'Lupina supports one round, or a certificate followed by EAP-MSCHAPv2');
}

async function readCertificateFile(
  file: string, folders: string[], options: ImportOptions, log: IssueLog, path: string,
): Promise<string[] | undefined> {
  if (!options.readFile) {
    log.error(path, 'the connection refers to a certificate file, but no file reader was given; ' +
      'import the file from disk', file);
    return undefined;
  }
  let lastError: Error | undefined;
  for (const folder of file.startsWith('/') ? [''] : folders) {
    try {
      const data = await options.readFile(`${folder}${file}`);
      return readCertificates(data);
    } catch (error) {
      if (error instanceof CertificateError) {
        log.error(path, `${error.message}; check the certificate file`, file);
        return undefined;
      }
      lastError = error as Error;
    }
  }
  log.error(path, `could not read the certificate file: ${lastError?.message ?? 'not found'}`, file);
  return undefined;
}

function readChild(connection: SettingsSection, path: string, profile: Profile, log: IssueLog): void {
  const children = [...(getSection(connection, 'children')?.sections.entries() ?? [])];
  if (children.length === 0) {
    log.warn(`${path}.children`, 'the connection defines no CHILD_SA; a full tunnel with default ' +
      'ESP proposals is used');
    profile.espProposals = settleProposals(undefined, 'esp', log, `${path}.children`);
    profile.trafficSelectors.remote = fullTunnelSelectors();
    return;
  }
  if (children.length > 1) {
    log.warn(`${path}.children`, `only the first CHILD_SA "${children[0]![0]}" is imported; the others ` +
      `(${children.slice(1).map(([name]) => name).join(', ')}) were ignored`);
  }
  const [name, child] = children[0]!;
  const childPath = `${path}.children.${name}`;
  const setting = (key: string) => child.settings.get(key)?.value;
  for (const [key, entry] of child.settings) {
    warnIgnoredKey(key, entry.value, CHILD_KEYS, IGNORED_CHILD_KEYS, `${childPath}.${key}`, log);
  }

  const mode = setting('mode') ?? 'tunnel';
  if (mode !== 'tunnel') {
    log.fail(`${childPath}.mode`, 'a road-warrior connection needs tunnel mode', mode);
  }
  const esp = setting('esp_proposals');
  profile.espProposals = settleProposals(esp === undefined ? undefined
    : parseProposals(esp, 'esp', log, `${childPath}.esp_proposals`), 'esp', log, `${childPath}.esp_proposals`);
  const remote = readSelectors(splitList(setting('remote_ts') ?? ''), log, `${childPath}.remote_ts`);
  profile.trafficSelectors.remote = remote.length > 0 ? remote : fullTunnelSelectors();
  profile.trafficSelectors.local = readSelectors(splitList(setting('local_ts') ?? ''), log, `${childPath}.local_ts`);
  readChildLifetimes(setting, childPath, profile.lifetimes.child, log);
}

function readChildLifetimes(
  setting: (key: string) => string | undefined, path: string, lifetime: SaLifetime, log: IssueLog,
): void {
  const fields: Array<[string, keyof SaLifetime, (text: string) => number | undefined]> = [
    ['rekey_time', 'rekeySeconds', parseDuration],
    ['life_time', 'lifeSeconds', parseDuration],
    ['rekey_bytes', 'rekeyBytes', parseCount],
    ['rekey_packets', 'rekeyPackets', parseCount],
  ];
  for (const [key, field, parse] of fields) {
    const text = setting(key);
    if (text === undefined) {
      continue;
    }
    const value = parse(text);
    if (value === undefined) {
      log.error(`${path}.${key}`, 'expected a number with an optional unit suffix', text);
    } else if (value > 0) {
      lifetime[field] = value;
    }
  }
  for (const key of ['life_bytes', 'life_packets']) {
    if (setting(key) !== undefined) {
      log.warn(`${path}.${key}`, 'hard byte and packet limits are not supported; the rekey limits apply', setting(key));
    }
  }
}

async function readSecrets(
  section: SettingsSection | undefined, profile: Profile, secrets: SecretBag,
  options: ImportOptions, log: IssueLog,
): Promise<void> {
  if (!section) {
    return;
  }
  const authentication = profile.authentication!;
  for (const [name, entry] of section.sections) {
    const path = `secrets.${name}`;
    const secret = entry.settings.get('secret')?.value;
    const file = entry.settings.get('file')?.value;
    const kind = name.replace(/-.*$/, '');
    switch (kind) {
      case 'ike': {
        const value = secret === undefined ? undefined : decodeSharedSecret(secret, `${path}.secret`, log);
        if (value && value.length > 0) {
          authentication.pskRef = secrets.add('psk', value);
        }
        break;
      }
      case 'eap': {
        const value = secret === undefined ? undefined : decodeSharedSecret(secret, `${path}.secret`, log);
        if (value && value.length > 0) {
          authentication.eapPasswordRef = secrets.add('eap-password', value);
        }
        break;
      }
      case 'private':
      case 'rsa':
      case 'ecdsa':
      case 'pkcs8':
        await readPrivateKeySecret(file, secret, path, profile, secrets, options, log);
        break;
      case 'pkcs12':
        await readPkcs12Secret(file, secret, path, profile, secrets, options, log);
        break;
      default:
        log.warn(path, `the secret type "${kind}" is not supported and was ignored (XAuth is IKEv1)`, REDACTED);
    }
  }
}

/**
 * Decodes a shared secret (ike and eap sections) as swanctl does: a value that starts with 0x
 * is hex, one that starts with 0s is base64, and any other value is the secret's own bytes.
 * swanctl (load_creds.c in strongSwan 5.x) checks the prefix after its parser has removed the
 * quotes, so a quoted "0x..." is decoded too. Like swanctl, hex may contain ":" separators, and
 * an odd number of digits gets a leading zero. Characters that swanctl would silently read as
 * zero are an error here instead. Messages never include the secret.
 */
export function decodeSharedSecret(text: string, path: string, log: IssueLog): Uint8Array | undefined {
  const prefix = text.slice(0, 2).toLowerCase();
  const body = text.slice(2);
  if (prefix === '0x') {
    const digits = body.replace(/:/g, '');
    if (!/^[0-9a-f]*$/i.test(digits)) {
      log.error(path, 'the secret starts with 0x, so swanctl reads it as hex, but it contains other ' +
        'characters than hex digits and ":"; fix the encoding', REDACTED);
      return undefined;
    }
    return new Uint8Array(Buffer.from(digits.length % 2 === 0 ? digits : `0${digits}`, 'hex'));
  }
  if (prefix === '0s') {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) {
      log.error(path, 'the secret starts with 0s, so swanctl reads it as base64, but the rest is not ' +
        'valid base64; fix the encoding', REDACTED);
      return undefined;
    }
    return new Uint8Array(Buffer.from(body, 'base64'));
  }
  return new TextEncoder().encode(text);
}

async function readPrivateKeySecret(
  file: string | undefined, passphrase: string | undefined, path: string, profile: Profile,
  secrets: SecretBag, options: ImportOptions, log: IssueLog,
): Promise<void> {
  if (!file) {
    log.error(`${path}.file`, 'a private key secret needs file = <key file>');
    return;
  }
  if (!options.readFile) {
    log.error(`${path}.file`, 'no file reader was given to read the private key; import the file from disk', file);
    return;
  }
  let data: Uint8Array | undefined;
  for (const folder of file.startsWith('/') ? [''] : ['', 'private/', 'rsa/', 'ecdsa/', 'pkcs8/']) {
    try {
      data = await options.readFile(`${folder}${file}`);
      break;
    } catch {
      // Try the next swanctl folder.
    }
  }
  if (!data) {
    log.error(`${path}.file`, 'could not read the private key file', file);
    return;
  }
  const pkcs8 = await decryptPrivateKey(data, passphrase, file, options, log, `${path}.file`);
  if (pkcs8) {
    profile.authentication!.privateKeyRef = secrets.add('private-key', pkcs8);
  }
}

async function readPkcs12Secret(
  file: string | undefined, password: string | undefined, path: string, profile: Profile,
  secrets: SecretBag, options: ImportOptions, log: IssueLog,
): Promise<void> {
  if (!file || !options.readFile) {
    log.error(`${path}.file`, 'a pkcs12 secret needs file = <file>, read from disk next to the configuration', file);
    return;
  }
  let data: Uint8Array;
  try {
    data = await options.readFile(file.startsWith('/') ? file : `pkcs12/${file}`).catch(() => options.readFile!(file));
  } catch (error) {
    log.error(`${path}.file`, `could not read the PKCS#12 file: ${(error as Error).message}`, file);
    return;
  }
  const label = `the PKCS#12 file ${file}: enter its password`;
  const withPassword: ImportOptions = password === undefined ? options : {
    ...options,
    passwords: async (request) => request.attempt === 1 ? password : options.passwords?.(request),
  };
  const contents = await unpackPkcs12(data, label, withPassword, log, `${path}.file`);
  profile.clientCertificate = contents.certificate;
  profile.authentication!.privateKeyRef = secrets.add('private-key', contents.privateKey);
  profile.trustedCaCertificates.push(...contents.caCertificates);
}
