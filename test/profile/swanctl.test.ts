import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { importProfile } from '../../main/profile/import.js';
import { parseSettings } from '../../main/profile/swanctl-parser.js';
import { bytes, makeFixtures, text, type Fixtures } from './fixtures.js';

const sample = (name: string) => new Uint8Array(readFileSync(new URL(`samples/${name}`, import.meta.url)));
let fixtures: Fixtures;
before(() => { fixtures = makeFixtures(); });
after(() => fixtures.cleanup());

test('settings parser nested and quoted', () => {
  const parsed = parseSettings('a {\n  b = "x # y \\" z"\n  c { d = 1 }\n}\n# done\n');
  assert.equal(parsed.root.sections.get('a')?.settings.get('b')?.value, 'x # y " z');
  assert.equal(parsed.root.sections.get('a')?.sections.get('c')?.settings.get('d')?.value, '1');
});

test('settings parser unclosed section', () => {
  assert.throws(() => parseSettings('a {\n b = 1\n'), /not closed/);
});

test('swanctl psk sample fields', async () => {
  const result = await importProfile(sample('psk-swanctl.conf'));
  assert.equal(result.ok, true);
  if (!result.ok) return;
  const { profile } = result;
  assert.equal(result.format, 'swanctl');
  assert.equal(profile.name, 'office');
  assert.equal(profile.authentication?.method, 'psk');
  assert.equal(profile.authentication?.remoteMethod, 'psk');
  assert.equal(text(result.secrets[profile.authentication?.pskRef ?? '']), 'a psk with "quotes" # not a comment');
  assert.deepEqual(profile.virtualIps, ['0.0.0.0', '::']);
  assert.equal(profile.ikeProposals.length, 2);
  assert.equal(profile.dpdSeconds, 30);
  assert.equal(profile.lifetimes.ike.rekeySeconds, 4 * 3600);
  assert.equal(profile.lifetimes.child.rekeySeconds, 3600);
  assert.equal(profile.lifetimes.child.lifeSeconds, 66 * 60);
  assert.equal(profile.lifetimes.child.rekeyBytes, 512 * 1024 * 1024);
  assert.deepEqual(profile.trafficSelectors.remote, ['192.0.2.0/24', '2001:db8:1::/48']);
  assert.equal(profile.forceUdpEncapsulation, true);
  const include = result.warnings.find((warning) => warning.message.includes('include'));
  assert.equal(include?.path, 'line 36');
});

test('swanctl several connections listed', async () => {
  const result = await importProfile(sample('two-connections-swanctl.conf'));
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.errors[0]?.path, 'connections');
  assert.match(result.errors[0]?.message ?? '', /home, lab/);
});

test('swanctl chosen connection imported', async () => {
  const result = await importProfile(sample('two-connections-swanctl.conf'), { connectionName: 'home' });
  assert.equal(result.ok, true);
  if (!result.ok) return;
  assert.equal(result.profile.authentication?.method, 'eap-mschapv2');
  assert.deepEqual(result.profile.identities.eap, { type: 'FQDN', value: 'frank' });
});

test('swanctl ikev1 rejected', async () => {
  const result = await importProfile(sample('ikev1-swanctl.conf'));
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.errors[0]?.path, 'connections.legacy.version');
  assert.match(result.errors[0]?.message ?? '', /only IKEv2/);
});

test('swanctl certificate rounds and key', async () => {
  const conf = `connections {
  rw {
    remote_addrs = 198.51.100.9
    local-1 { auth = pubkey
      certs = client.pem
      id = "CN=alice@example.com" }
    local-2 { auth = eap-mschapv2
      eap_id = alice }
    remote { auth = pubkey
      cacerts = ca.pem
      pubkeys = gw.pub }
    children { rw { remote_ts = 0.0.0.0/0 } }
  }
}
secrets { private-alice { file = client.key } eap-alice { secret = hunter2 } }
`;
  const files: Record<string, string> = {
    'x509/client.pem': fixtures.clientPem, 'x509ca/ca.pem': fixtures.caPem, 'private/client.key': fixtures.clientKeyPem,
  };
  const result = await importProfile(bytes(conf), {
    readFile: async (path) => {
      if (files[path] === undefined) throw new Error(`ENOENT ${path}`);
      return bytes(files[path]!);
    },
  });
  assert.equal(result.ok, true);
  if (!result.ok) return;
  const { profile } = result;
  assert.equal(profile.authentication?.method, 'certificate+eap-mschapv2');
  assert.equal(profile.identities.local?.type, 'DER_ASN1_DN');
  assert.equal(profile.trustedCaCertificates.length, 1);
  assert.ok(profile.clientCertificate);
  assert.ok(profile.authentication?.privateKeyRef);
  assert.equal(text(result.secrets[profile.authentication?.eapPasswordRef ?? '']), 'hunter2');
  assert.ok(result.warnings.some((warning) => warning.path === 'connections.rw.remote.pubkeys'));
});

test('swanctl syntax error line', async () => {
  const result = await importProfile(bytes('connections {\n  a {\n    remote_addrs = "x\n'));
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.errors[0]?.path, 'line 3');
  assert.match(result.errors[0]?.message ?? '', /unterminated quoted value/);
});

function pskConf(secret: string, remoteExtra = ''): Uint8Array {
  return bytes(`connections {
  office {
    remote_addrs = 203.0.113.5
    local { auth = psk
      id = client.example.com }
    remote { auth = psk
      ${remoteExtra} }
  }
}
secrets { ike-office { secret = ${secret} } }
`);
}

async function importedPsk(secret: string): Promise<string> {
  const result = await importProfile(pskConf(secret));
  assert.equal(result.ok, true, result.ok ? '' : JSON.stringify(result.errors));
  if (!result.ok) return '';
  return Buffer.from(result.secrets[result.profile.authentication?.pskRef ?? ''] ?? []).toString('hex');
}

test('swanctl secret encodings decoded', async () => {
  assert.equal(await importedPsk('0x00ff10'), '00ff10');
  assert.equal(await importedPsk('0X00:FF:10'), '00ff10');
  // swanctl pads an odd number of hex digits with a leading zero.
  assert.equal(await importedPsk('0xabc'), '0abc');
  assert.equal(await importedPsk('0sAP8Q'), '00ff10');
  assert.equal(await importedPsk('plain-text'), Buffer.from('plain-text').toString('hex'));
  assert.equal(await importedPsk('"quoted 0x1 text"'), Buffer.from('quoted 0x1 text').toString('hex'));
});

test('swanctl quoted prefix decoded too', async () => {
  // swanctl checks the prefix after its parser has removed the quotes.
  assert.equal(await importedPsk('"0x00ff10"'), '00ff10');
});

test('swanctl invalid secret encoding', async () => {
  for (const secret of ['0x12zz', '0sAP8', '0s@@@@']) {
    const result = await importProfile(pskConf(secret));
    assert.equal(result.ok, false, secret);
    if (result.ok) continue;
    assert.equal(result.errors[0]?.path, 'secrets.ike-office.secret');
    assert.match(result.errors[0]?.message ?? '', /fix the encoding/);
    assert.equal(result.errors[0]?.value, '<redacted>');
  }
});

test('swanctl strict revocation warns', async () => {
  const result = await importProfile(pskConf('x', 'revocation = strict'));
  assert.equal(result.ok, true);
  if (!result.ok) return;
  assert.equal(result.profile.authentication?.revocation.strict, true);
  const warning = result.warnings.find((item) => item.path === 'authentication.revocation.strict');
  assert.match(warning?.message ?? '', /not check CRLs or OCSP yet/);
});

test('swanctl eap warns until supported', async () => {
  const result = await importProfile(sample('two-connections-swanctl.conf'), { connectionName: 'home' });
  assert.equal(result.ok, true);
  if (!result.ok) return;
  const warning = result.warnings.find((item) => item.path === 'authentication.method');
  assert.match(warning?.message ?? '', /connecting with this profile will fail until EAP is supported/);
});

test('swanctl psk has no eap warning', async () => {
  const result = await importProfile(pskConf('x'));
  assert.equal(result.ok, true);
  if (!result.ok) return;
  assert.ok(!result.warnings.some((item) => item.path === 'authentication.method'));
  assert.ok(!result.warnings.some((item) => item.path === 'authentication.revocation.strict'));
});
