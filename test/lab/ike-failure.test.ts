/**
 * Connection failures that `lupina connect` must report and end on, with exit code 1 and a
 * message that names the cause, within a bounded time: a wrong pre-shared key, a gateway
 * certificate from a CA that the profile does not trust, and proposals the gateway rejects.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import {
  clientConf,
  createTestPki,
  gatewayConf,
  labSkip,
  startConnect,
  withGateway,
  type GatewayLab,
  type TestPki,
} from './ike-lab.js';

const SECRET = `lupina-${randomBytes(8).toString('hex')}`;
const PROPOSALS = { ikeProposals: 'aes128-sha256-x25519', espProposals: 'aes128gcm16' };
/** A failure must end the process within this time; the IKE give-up time is 30 s. */
const FAILURE_BOUND_MS = 15_000;

/** Runs `lupina connect` until it exits by itself and returns its exit code, output and time. */
async function connectUntilExit(
  lab: GatewayLab,
  name: string,
  conf: string,
  files: Record<string, string> = {},
): Promise<{ code: number | null; output: string; elapsedMs: number }> {
  const started = Date.now();
  const client = await startConnect(lab, name, conf, files);
  const timer = setTimeout(() => void client.stop(), FAILURE_BOUND_MS + 20_000);
  try {
    const code = await client.process.exit;
    return { code, output: client.output(), elapsedMs: Date.now() - started };
  } finally {
    clearTimeout(timer);
    await client.stop();
  }
}

describe('IKEv2 failures with strongSwan', { skip: labSkip }, () => {
  let pki: TestPki;
  before(async () => {
    pki = await createTestPki();
  });
  after(async () => {
    await rm(pki.directory, { recursive: true, force: true });
  });

  it('wrong pre-shared key', { timeout: 60_000 }, async () => {
    const conf = gatewayConf({ ...PROPOSALS, auth: { method: 'psk', secret: SECRET } });
    await withGateway({ swanctlConf: conf }, async (lab) => {
      const wrong = { method: 'psk' as const, secret: `${SECRET}-wrong` };
      const result = await connectUntilExit(lab, 'psk', clientConf({ ...PROPOSALS, auth: wrong }));
      assert.equal(result.code, 1, result.output);
      assert.match(
        result.output,
        /^lupina: cannot connect "office": authentication failed: the gateway rejected the pre-shared key/m,
      );
      assert.ok(result.elapsedMs < FAILURE_BOUND_MS, `took ${result.elapsedMs} ms`);
      assert.doesNotMatch(result.output, /: connected$/m);
    });
  });

  it('untrusted gateway certificate', { timeout: 60_000 }, async () => {
    const conf = gatewayConf({ ...PROPOSALS, auth: { method: 'pubkey' } });
    const gatewayFiles = {
      'x509ca/ca.pem': pki.files['ca.pem']!,
      'x509/gw.pem': pki.files['gw-rsa.pem']!,
      'private/gw.key': pki.files['gw-rsa.key']!,
    };
    await withGateway({ swanctlConf: conf, files: gatewayFiles }, async (lab) => {
      const auth = {
        method: 'pubkey' as const,
        certificate: 'client.pem',
        caCertificate: 'other-ca.pem',
        privateKey: 'client.key',
      };
      const files = {
        'client.pem': pki.files['client-ecdsa.pem']!,
        'client.key': pki.files['client-ecdsa.key']!,
        'other-ca.pem': pki.files['other-ca.pem']!,
      };
      const profile = clientConf({ ...PROPOSALS, auth });
      const result = await connectUntilExit(lab, 'untrusted', profile, files);
      assert.equal(result.code, 1, result.output);
      assert.match(
        result.output,
        /^lupina: cannot connect "office": gateway authentication failed: no trusted CA issued "C=CH, O=Lupina Test, CN=gw.example.org"/m,
      );
      assert.ok(result.elapsedMs < FAILURE_BOUND_MS, `took ${result.elapsedMs} ms`);
      assert.doesNotMatch(result.output, /: connected$/m);
    });
  });

  it('proposal the gateway rejects', { timeout: 60_000 }, async () => {
    const conf = gatewayConf({
      ikeProposals: 'aes256gcm16-prfsha384-ecp384',
      espProposals: 'aes256gcm16',
      auth: { method: 'psk', secret: SECRET },
    });
    await withGateway({ swanctlConf: conf }, async (lab) => {
      const profile = clientConf({
        ikeProposals: 'aes128-sha256-modp2048',
        espProposals: 'aes128-sha256',
        auth: { method: 'psk', secret: SECRET },
      });
      const result = await connectUntilExit(lab, 'proposal', profile);
      assert.equal(result.code, 1, result.output);
      assert.match(
        result.output,
        /^lupina: cannot connect "office": the gateway accepts none of the profile's proposals \(IKE_SA_INIT failed: the gateway sent NO_PROPOSAL_CHOSEN\)/m,
      );
      assert.ok(result.elapsedMs < FAILURE_BOUND_MS, `took ${result.elapsedMs} ms`);
    });
  });

  it('CHILD_SA proposal the gateway rejects', { timeout: 60_000 }, async () => {
    const conf = gatewayConf({
      ...PROPOSALS,
      espProposals: 'aes256gcm16',
      auth: { method: 'psk', secret: SECRET },
    });
    await withGateway({ swanctlConf: conf }, async (lab) => {
      const profile = clientConf({
        ...PROPOSALS,
        espProposals: 'aes128-sha256',
        auth: { method: 'psk', secret: SECRET },
      });
      const result = await connectUntilExit(lab, 'child-proposal', profile);
      assert.equal(result.code, 1, result.output);
      assert.match(
        result.output,
        /^lupina: cannot connect "office": the gateway accepts none of the profile's proposals \(the IKE SA is up but the gateway rejected the CHILD_SA: NO_PROPOSAL_CHOSEN\)/m,
      );
      assert.ok(result.elapsedMs < FAILURE_BOUND_MS, `took ${result.elapsedMs} ms`);
    });
  });
});
