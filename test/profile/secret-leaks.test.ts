/**
 * Imports broken files that contain known secret strings and checks that no error or warning
 * (path, message or value) repeats them, while each case still reports the broken line or key.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { importProfile } from '../../main/profile/import.js';
import type { ImportIssue } from '../../main/profile/import-result.js';
import { bytes } from './fixtures.js';

const HEX_KEY = 'c0ffee00deadbeef1122334455667788';
const HEX_KEY_2 = '99aabbccddeeff00' + '0123456789abcdef'.repeat(3);
const PASSWORD = 'Sup3rS3cretPassw0rd';
const PSK = 'n0t-a-real-psk-9f3a';

interface LeakCase {
  name: string;
  file: string;
  fileName?: string;
  /** Secret strings, or fragments of them, that must not appear in any issue. */
  secrets: string[];
  /** The path that the case must report, so the broken part was reached. */
  expectedPath: string | RegExp;
}

const SETKEY_POLICY = 'spdadd 192.0.2.1 192.0.2.2 any -P out ipsec esp/transport//require;\n';

const MOBILECONFIG = (ikev2Extra: string, vpnExtra = '') => `<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
<key>PayloadContent</key><array>
 <dict>
  <key>PayloadType</key><string>com.apple.vpn.managed</string>
  <key>UserDefinedName</key><string>Leak test</string>
  <key>VPNType</key><string>IKEv2</string>
  ${vpnExtra}
  <key>IKEv2</key><dict>
   <key>RemoteAddress</key><string>203.0.113.5</string>
   <key>RemoteIdentifier</key><string>vpn.example.com</string>
   <key>LocalIdentifier</key><string>client.example.com</string>
   <key>AuthenticationMethod</key><string>SharedSecret</string>
   ${ikev2Extra}
  </dict>
 </dict>
</array>
</dict></plist>`;

const NMCONNECTION = (vpnExtra: string, secretsBody: string, prefix = '') => `${prefix}[connection]
id=Leak test
type=vpn

[vpn]
service-type=org.freedesktop.NetworkManager.strongswan
address=vpn.example.com
method=psk
${vpnExtra}

[vpn-secrets]
${secretsBody}
`;

const SWANCTL = (connectionExtra: string, secret: string) => `connections {
  office {
    remote_addrs = 203.0.113.5
    ${connectionExtra}
    local { auth = psk }
    remote { auth = psk }
  }
}
secrets {
  ike-office {
    secret = ${secret}
  }
}
`;

const CASES: LeakCase[] = [
  {
    name: 'setkey statement without semicolon',
    file: `${SETKEY_POLICY}add 192.0.2.1 192.0.2.2 esp 0x1000 -E aes-cbc 0x${HEX_KEY}`,
    secrets: [HEX_KEY],
    expectedPath: 'line 2',
  },
  {
    name: 'setkey key without algorithm',
    file: `add 192.0.2.1 192.0.2.2 esp 0x1000 -E 0x${HEX_KEY} -A hmac-sha256 0x${HEX_KEY_2};\n${SETKEY_POLICY}`,
    secrets: [HEX_KEY, HEX_KEY_2],
    expectedPath: 'line 1',
  },
  {
    name: 'setkey key split by a space',
    file: `add 192.0.2.1 192.0.2.2 esp 0x1000 -E aes-cbc 0x${HEX_KEY.slice(0, 16)} ${HEX_KEY.slice(16)} ` +
      `-A hmac-sha256 0x${HEX_KEY_2};\n${SETKEY_POLICY}`,
    secrets: [HEX_KEY.slice(0, 16), HEX_KEY.slice(16), HEX_KEY_2],
    expectedPath: 'line 1',
  },
  {
    name: 'setkey quoted key without algorithm',
    file: `add 192.0.2.1 192.0.2.2 ah 0x1000 -A "${PASSWORD}";\n${SETKEY_POLICY}`,
    secrets: [PASSWORD],
    expectedPath: 'line 1',
  },
  {
    name: 'nmconnection secret line without equals',
    file: NMCONNECTION('', `password ${PSK}`),
    secrets: [PSK],
    expectedPath: /^line \d+$/,
  },
  {
    name: 'nmconnection password in vpn group',
    file: NMCONNECTION(`password=${PSK}`, `password=${PASSWORD}`),
    secrets: [PSK, PASSWORD],
    expectedPath: 'vpn.password',
  },
  {
    name: 'nmconnection setting before first group',
    file: NMCONNECTION('', 'password=x', `password=${PSK}\n`),
    secrets: [PSK],
    expectedPath: 'line 1',
  },
  {
    name: 'mobileconfig unknown ikev2 key',
    file: MOBILECONFIG(`<key>SharedSecret</key><string>${PSK}</string><key>XAuthPassword</key><string>${PASSWORD}</string>`),
    secrets: [PSK, PASSWORD],
    expectedPath: 'IKEv2.XAuthPassword',
  },
  {
    name: 'mobileconfig unsupported flag with text',
    file: MOBILECONFIG(`<key>SharedSecret</key><string>${PSK}</string><key>DisableMOBIKE</key><string>${PASSWORD}</string>`),
    secrets: [PSK, PASSWORD],
    expectedPath: 'IKEv2.DisableMOBIKE',
  },
  {
    name: 'mobileconfig unknown vpn dictionary',
    file: MOBILECONFIG(`<key>SharedSecret</key><string>${PSK}</string>`,
      `<key>IPSec</key><dict><key>XAuthPassword</key><string>${PASSWORD}</string>` +
      `<key>SharedSecret</key><data>${Buffer.from(PASSWORD).toString('base64')}</data></dict>`),
    secrets: [PSK, PASSWORD, Buffer.from(PASSWORD).toString('base64')],
    expectedPath: 'IPSec',
  },
  {
    name: 'plist secret as invalid integer',
    file: MOBILECONFIG(`<key>SharedSecret</key><integer>${PASSWORD}</integer>`),
    secrets: [PASSWORD, PASSWORD.slice(0, 8)],
    expectedPath: /^line \d+$/,
  },
  {
    name: 'plist secret with bare ampersand',
    file: MOBILECONFIG(`<key>SharedSecret</key><string>ab&${PASSWORD}</string>`),
    secrets: [PASSWORD.slice(0, 6)],
    expectedPath: /^line \d+$/,
  },
  {
    name: 'plist secret with unknown entity',
    file: MOBILECONFIG(`<key>SharedSecret</key><string>ab&${PASSWORD.slice(0, 8)};</string>`),
    secrets: [PASSWORD.slice(0, 6)],
    expectedPath: /^line \d+$/,
  },
  {
    name: 'plist secret as invalid date',
    file: MOBILECONFIG(`<key>SharedSecret</key><date>${PASSWORD}</date>`),
    secrets: [PASSWORD.slice(0, 6)],
    expectedPath: /^line \d+$/,
  },
  {
    name: 'swanctl secret in connection',
    file: SWANCTL(`psk = ${PASSWORD}`, `"${PSK}"`),
    secrets: [PASSWORD, PSK],
    expectedPath: 'connections.office.psk',
  },
  {
    name: 'swanctl invalid hex secret',
    file: SWANCTL('', `0x${HEX_KEY}zz${PASSWORD}`),
    secrets: [HEX_KEY, PASSWORD],
    expectedPath: 'secrets.ike-office.secret',
  },
  {
    name: 'swanctl invalid base64 secret',
    file: SWANCTL('', `0s${PASSWORD}!`),
    secrets: [PASSWORD],
    expectedPath: 'secrets.ike-office.secret',
  },
  {
    name: 'sswan unknown password key',
    file: JSON.stringify({
      uuid: '5b8e6f1a-2c3d-4e5f-8a9b-0c1d2e3f4a5b', name: 'Leak test', type: 'ikev2-eap',
      remote: { addr: 'vpn.example.com' }, local: { eap_id: 'alice', password: PASSWORD },
    }),
    fileName: 'leak.sswan',
    secrets: [PASSWORD],
    expectedPath: 'local.password',
  },
];

function issuesOf(result: Awaited<ReturnType<typeof importProfile>>): ImportIssue[] {
  return result.ok ? result.warnings : result.errors;
}

function issueText(issue: ImportIssue): string {
  return `${issue.path} ${issue.message} ${issue.value ?? ''}`;
}

for (const leakCase of CASES) {
  test(`no secret in issues: ${leakCase.name}`, async () => {
    const options = leakCase.fileName === undefined ? {} : { fileName: leakCase.fileName };
    const result = await importProfile(bytes(leakCase.file), options);
    const issues = issuesOf(result);
    const paths = issues.map((issue) => issue.path);
    assert.ok(paths.some((path) => typeof leakCase.expectedPath === 'string'
      ? path === leakCase.expectedPath : leakCase.expectedPath.test(path)),
    `expected an issue at ${String(leakCase.expectedPath)}, got ${JSON.stringify(paths)}`);
    for (const issue of issues) {
      for (const secret of leakCase.secrets) {
        assert.ok(!issueText(issue).toLowerCase().includes(secret.toLowerCase()),
          `the issue at ${issue.path} repeats secret material: ${issue.message}`);
      }
    }
  });
}
