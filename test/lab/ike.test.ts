/**
 * IKEv2 end to end against strongSwan: charon with kernel-libipsec is the office gateway, an
 * office host sits behind it, and `lupina connect` reads a swanctl.conf road-warrior profile in
 * the client namespace. Ping and iperf3 reach the office host through the tunnel.
 */

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { lupinaStatus, runIn, startLupina, type LupinaProcess } from './lab.js';
import { GATEWAY_ADDRESS, startStrongswanGateway, type StrongswanGateway } from './strongswan.js';

const run = promisify(execFile);
const OFFICE_HOST = '203.0.113.5';
const OFFICE_GATEWAY = '203.0.113.1';
const POOL = '198.51.100.16/28';
const SECRET = `lupina-${randomBytes(8).toString('hex')}`;

const available = process.getuid?.() === 0 && existsSync('/usr/lib/ipsec/charon') && existsSync('/usr/sbin/swanctl');

function gatewayConf(options: { ikeProposals: string; espProposals: string; extra?: string }): string {
  return `
connections {
  rw {
    version = 2
    proposals = ${options.ikeProposals}
    local_addrs = ${GATEWAY_ADDRESS}
    pools = pool4
    fragmentation = yes
    ${options.extra ?? ''}
    local {
      auth = psk
      id = gw.example
    }
    remote {
      auth = psk
      id = client.example
    }
    children {
      office {
        local_ts = 203.0.113.0/24
        esp_proposals = ${options.espProposals}
      }
    }
  }
}
pools {
  pool4 {
    addrs = ${POOL}
    dns = 203.0.113.53
  }
}
secrets {
  ike-client {
    id-gw = gw.example
    id-client = client.example
    secret = "${SECRET}"
  }
}
`;
}

function clientConf(options: { ikeProposals: string; espProposals: string; secret?: string; rekeyTime?: string }): string {
  return `
connections {
  office {
    remote_addrs = ${GATEWAY_ADDRESS}
    vips = 0.0.0.0
    proposals = ${options.ikeProposals}
    local {
      auth = psk
      id = client.example
    }
    remote {
      auth = psk
      id = gw.example
    }
    children {
      office {
        remote_ts = 203.0.113.0/24
        esp_proposals = ${options.espProposals}
        ${options.rekeyTime ? `rekey_time = ${options.rekeyTime}` : ''}
      }
    }
  }
}
secrets {
  ike-office {
    id = gw.example
    secret = "${options.secret ?? SECRET}"
  }
}
`;
}

/** Adds an office namespace behind the gateway: 203.0.113.5, routed back through 203.0.113.1. */
async function addOffice(gateway: StrongswanGateway): Promise<string> {
  const office = `${gateway.namespace}-o`;
  const veth = `lof${randomBytes(3).toString('hex')}`;
  const steps = [
    ['netns', 'add', office],
    ['link', 'add', veth, 'netns', gateway.namespace, 'type', 'veth', 'peer', 'name', `${veth}p`, 'netns', office],
    ['-n', gateway.namespace, 'address', 'add', `${OFFICE_GATEWAY}/24`, 'dev', veth],
    ['-n', gateway.namespace, 'link', 'set', veth, 'up'],
    ['-n', office, 'address', 'add', `${OFFICE_HOST}/24`, 'dev', `${veth}p`],
    ['-n', office, 'link', 'set', `${veth}p`, 'up'],
    ['-n', office, 'link', 'set', 'lo', 'up'],
    ['-n', office, 'route', 'add', 'default', 'via', OFFICE_GATEWAY],
  ];
  for (const step of steps) {
    await run('ip', step);
  }
  await run('ip', ['netns', 'exec', gateway.namespace, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  return office;
}

describe('IKEv2 with strongSwan', { skip: available ? false : 'needs root and strongSwan (charon, swanctl)' }, () => {
  let directory: string;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'lupina-ike-lab-'));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function withGateway(conf: string, body: (gateway: StrongswanGateway, office: string) => Promise<void>): Promise<void> {
    const gateway = await startStrongswanGateway({ swanctlConf: conf });
    let office: string | undefined;
    try {
      office = await addOffice(gateway);
      await body(gateway, office);
    } finally {
      if (office) {
        await run('ip', ['netns', 'delete', office]).catch(() => undefined);
      }
      await gateway.stop();
    }
  }

  async function connect(gateway: StrongswanGateway, name: string, conf: string): Promise<LupinaProcess> {
    const path = join(directory, `${name}.swanctl.conf`);
    await writeFile(path, conf, { mode: 0o600 });
    const resolvConf = join(directory, `${name}.resolv.conf`);
    await writeFile(resolvConf, 'nameserver 192.0.2.53\n');
    const lupina = startLupina(gateway.clientNamespace, directory, name, path);
    lupina.environment['LUPINA_RESOLV_CONF'] = resolvConf;
    return lupina;
  }

  const proposalSets = [
    { ikeProposals: 'aes128-sha256-x25519', espProposals: 'aes128gcm16' },
    { ikeProposals: 'aes256gcm16-prfsha384-ecp384', espProposals: 'aes256-sha384' },
    { ikeProposals: 'chacha20poly1305-prfsha256-ecp256', espProposals: 'chacha20poly1305' },
  ];

  for (const proposals of proposalSets) {
    it(`PSK ${proposals.ikeProposals} / ${proposals.espProposals} carries traffic`, { timeout: 90_000 }, async () => {
      await withGateway(gatewayConf(proposals), async (gateway) => {
        const client = await connect(gateway, `psk-${proposals.espProposals}`, clientConf(proposals));
        try {
          await client.connected;
          const ping = await runIn(gateway.clientNamespace, 'ping', ['-c', '5', '-i', '0.2', '-W', '2', OFFICE_HOST]);
          assert.match(ping, / 0% packet loss/);

          const status = await lupinaStatus(gateway.clientNamespace, client.environment);
          assert.equal(status.state.status, 'connected');
          const outbound = status.sas.find((sa) => sa.direction === 'out')!;
          assert.ok(outbound.packets >= 5);
          const listing = await gateway.listSas();
          const child = listing.ikeSas[0]?.childSas[0];
          assert.ok(child, listing.raw);
          assert.equal(child.spiIn, outbound.spi);
        } finally {
          assert.equal(await client.stop(), 0, client.output());
        }
      });
    });
  }

  it('routes exactly the narrowed selectors', { timeout: 60_000 }, async () => {
    // The client asks for 203.0.113.0/24; the gateway narrows it to two ranges inside.
    const proposals = proposalSets[0]!;
    const conf = gatewayConf(proposals).replace('local_ts = 203.0.113.0/24', 'local_ts = 203.0.113.0/29, 203.0.113.64/26');
    await withGateway(conf, async (gateway) => {
      // charon routes each selector from an address of its own inside it, so it needs one in .64/26.
      await run('ip', ['-n', gateway.namespace, 'address', 'add', '203.0.113.65/32', 'dev', 'lo']);
      const client = await connect(gateway, 'narrowed', clientConf(proposals));
      try {
        await client.connected;
        const routes = await runIn(gateway.clientNamespace, 'ip', ['route']);
        assert.match(routes, /^203\.0\.113\.0\/29 dev lupina\d/m);
        assert.match(routes, /^203\.0\.113\.64\/26 dev lupina\d/m);
        assert.doesNotMatch(routes, /^203\.0\.113\.0\/24 dev lupina/m);
        const ping = await runIn(gateway.clientNamespace, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', OFFICE_HOST]);
        assert.match(ping, / 0% packet loss/);
      } finally {
        assert.equal(await client.stop(), 0, client.output());
      }
    });
  });
});
