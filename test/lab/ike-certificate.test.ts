/**
 * Certificate authentication end to end: `lupina connect` reads a swanctl.conf with `certs`,
 * `cacerts` and a `private-*` secret whose key file lies beside the profile, and authenticates
 * against charon with RSA and ECDSA certificates that strongSwan's `pki` made.
 */

import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import {
  clientConf,
  createTestPki,
  gatewayConf,
  labSkip,
  pingOffice,
  withClient,
  withGateway,
  type TestPki,
} from './ike-lab.js';

const cases = [
  {
    name: 'RSA gateway, ECDSA client',
    gateway: 'gw-rsa',
    client: 'client-ecdsa',
    ikeProposals: 'aes128-sha256-x25519',
    espProposals: 'aes128gcm16',
    clientSignature: 'ECDSA_WITH_SHA256_DER',
  },
  {
    name: 'ECDSA gateway, RSA client',
    gateway: 'gw-ecdsa',
    client: 'client-rsa',
    ikeProposals: 'aes256gcm16-prfsha384-ecp384',
    espProposals: 'aes256-sha384',
    clientSignature: 'RSA_EMSA_PKCS1_SHA2_256',
  },
  {
    name: 'ECDSA both ends',
    gateway: 'gw-ecdsa',
    client: 'client-ecdsa',
    ikeProposals: 'chacha20poly1305-prfsha256-ecp256',
    espProposals: 'chacha20poly1305',
    clientSignature: 'ECDSA_WITH_SHA256_DER',
  },
];

describe('IKEv2 certificates with strongSwan', { skip: labSkip }, () => {
  let pki: TestPki;
  before(async () => {
    pki = await createTestPki();
  });
  after(async () => {
    await rm(pki.directory, { recursive: true, force: true });
  });

  for (const setup of cases) {
    it(`certificates, ${setup.name}`, { timeout: 60_000 }, async () => {
      const gatewayFiles = {
        'x509ca/ca.pem': pki.files['ca.pem']!,
        'x509/gw.pem': pki.files[`${setup.gateway}.pem`]!,
        'private/gw.key': pki.files[`${setup.gateway}.key`]!,
      };
      const conf = gatewayConf({ ...setup, auth: { method: 'pubkey' } });
      await withGateway({ swanctlConf: conf, files: gatewayFiles }, async (lab) => {
        const profile = clientConf({
          ...setup,
          auth: {
            method: 'pubkey',
            certificate: 'client.pem',
            caCertificate: 'ca.pem',
            privateKey: 'client.key',
          },
        });
        const files = {
          'client.pem': pki.files[`${setup.client}.pem`]!,
          'client.key': pki.files[`${setup.client}.key`]!,
          'ca.pem': pki.files['ca.pem']!,
        };
        const exit = await withClient(lab, 'cert', profile, files, async (client) => {
          await client.waitFor(/: connected$/m, 20_000);
          const ping = await pingOffice(lab.gateway.clientNamespace);
          assert.match(ping, / 0% packet loss/);

          const listing = await lab.gateway.listSas();
          const ike = listing.ikeSas[0];
          assert.ok(ike, listing.raw);
          assert.equal(ike.state, 'ESTABLISHED');
          const log = await lab.gateway.log();
          const expected = `authentication of 'client@example.org' with ${setup.clientSignature} successful`;
          assert.ok(log.includes(expected), `charon did not log "${expected}":\n${log}`);
        });
        assert.equal(exit, 0);
      });
    });
  }
});
