/**
 * What the CLI prints: the status table, escapes of control characters, redacted secrets, the
 * --replace hint, usage errors and the configured folders.
 */

import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ControllerStatus } from '../../main/controller/controller.js';
import { formatStatus } from '../../main/cli/format-status.js';
import { cliPaths } from '../../main/cli/paths.js';
import { escapeControlCharacters, formatJsonForTerminal } from '../../main/cli/terminal-text.js';
import type { SaSnapshot } from '../../main/engine/security-association.js';
import { createCliFolder, runLupina, SAMPLES, type CliFolder } from './cli-process.js';

function sa(spi: string, transform: string, packets: number): SaSnapshot {
  return {
    spi, direction: 'out', protocol: 'esp', mode: 'tunnel', transform, provider: 'node', state: 'mature',
    packets, bytes: packets * 100, seq: packets,
    drops: { replayDuplicate: 0, replayTooOld: 0, icv: 0, padding: 0, policy: 0, malformed: 0 },
    replay: null, lifetime: {}, trafficSelectors: { local: [], remote: [] },
  } as unknown as SaSnapshot;
}

function status(device: string, sas: SaSnapshot[], profileName = 'office'): ControllerStatus {
  return {
    state: { status: device === '' ? 'connecting' : 'connected', profileName, since: '2024-01-01T00:00:00.000Z' },
    tunnel: {
      device, mtu: device === '' ? 0 : 1400, sas,
      sad: { unknownSpi: 0, malformed: 0, noPolicy: 0 },
      dataPlane: { tooBig: 0, deviceWriteFailures: 0, transportSendFailures: 0 },
      transport: {}, deviceCounters: {},
      totals: { packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, drops: 0, retiredSas: 0 },
    },
  };
}

describe('lupina status table', () => {
  it('omits device and MTU while connecting', () => {
    const text = formatStatus(status('', []));
    assert.match(text, /^office: connecting since /);
    assert.doesNotMatch(text, /device/);
    assert.doesNotMatch(text, /MTU/);
  });

  it('shows device and MTU once up', () => {
    assert.match(formatStatus(status('lupina0', [])), /device lupina0, MTU 1400, /);
  });

  it('widens the transform column', () => {
    const long = 'aes-256-gcm-16 + chacha20-poly1305 fallback transform name';
    const lines = formatStatus(status('lupina0', [sa('00001001', 'aes-128-cbc/hmac-sha256-128', 7), sa('00002001', long, 12345)])).split('\n');
    const header = lines.find((line) => line.startsWith('SPI'))!;
    const rows = lines.filter((line) => /^0000/.test(line));
    assert.equal(rows.length, 2);
    const packetsEnd = header.indexOf('packets') + 'packets'.length;
    assert.equal(rows[0]!.indexOf(' 7 ') + 2, packetsEnd, 'short transform row is out of line');
    assert.equal(rows[1]!.indexOf(' 12345 ') + 6, packetsEnd, 'long transform row is out of line');
    assert.ok(rows[1]!.includes(`${long} `), 'the long transform name was cut');
  });

  it('escapes the profile name and reason', () => {
    const text = formatStatus({ ...status('', []), state: { status: 'disconnected', profileName: 'a\u001b[2Jb', reason: 'x\u0007', since: 'now' } });
    assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f]/);
    assert.match(text, /a\\x1b\[2Jb: disconnected \(x\\x07\)/);
  });
});

describe('terminal escapes', () => {
  it('escapes C0, C1 and bidi controls', () => {
    assert.equal(escapeControlCharacters('a\u001b[31mb\nc\u009bd\u202ee'), 'a\\x1b[31mb\\x0ac\\x9bd\\u202ee');
  });

  it('keeps printable text', () => {
    assert.equal(escapeControlCharacters('Büro 東京 "vpn"'), 'Büro 東京 "vpn"');
  });

  it('keeps JSON valid', () => {
    const text = formatJsonForTerminal({ name: 'a\u009bb\u2028c\u001b' });
    assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028]/);
    assert.equal(JSON.parse(text).name, 'a\u009bb\u2028c\u001b');
  });
});

describe('cli paths', () => {
  it('empty variables count as unset', () => {
    const empty = cliPaths({ LUPINA_CONFIG_DIR: '', LUPINA_RUNTIME_DIR: '', XDG_CONFIG_HOME: '', XDG_RUNTIME_DIR: '' });
    const unset = cliPaths({});
    assert.deepEqual(empty, unset);
    assert.ok(empty.socket.startsWith('/'), `socket path ${empty.socket} is relative`);
    assert.ok(empty.profiles.startsWith('/'), `profiles path ${empty.profiles} is relative`);
  });

  it('set variables override', () => {
    const paths = cliPaths({ LUPINA_CONFIG_DIR: '/srv/lupina/config', LUPINA_RUNTIME_DIR: '/srv/lupina/run' });
    assert.equal(paths.profiles, '/srv/lupina/config/profiles');
    assert.equal(paths.socket, '/srv/lupina/run/lupina.sock');
  });

  it('non-root defaults under home', () => {
    assert.equal(cliPaths({}, false).profiles, join(homedir(), '.config', 'lupina', 'profiles'));
    assert.equal(cliPaths({}, false).socket, join(homedir(), '.cache', 'lupina', 'lupina.sock'));
    assert.equal(cliPaths({ XDG_RUNTIME_DIR: '/run/user/1000' }, false).socket, '/run/user/1000/lupina/lupina.sock');
  });

  it('root defaults are system-wide', () => {
    assert.equal(cliPaths({}, true).profiles, '/etc/lupina/profiles');
    assert.equal(cliPaths({}, true).socket, '/run/lupina/lupina.sock');
  });
});

describe('lupina messages', () => {
  let folder: CliFolder;

  before(async () => {
    folder = await createCliFolder('lupina-output-');
  });
  after(async () => {
    await rm(folder.directory, { recursive: true, force: true });
  });

  function lupina(...args: string[]) {
    return runLupina(folder.environment, args, { timeoutMs: 20_000 });
  }

  it('import --json hides secret lengths', async () => {
    const result = await lupina('import', join(SAMPLES, 'tunnel-setkey.conf'), '--json');
    assert.equal(result.code, 0, result.stderr);
    const secrets = Object.values(JSON.parse(result.stdout).secrets);
    assert.equal(secrets.length, 4);
    for (const value of secrets) {
      assert.equal(value, '<redacted>');
    }
    assert.doesNotMatch(result.stdout, /bytes/);
  });

  it('existing profile hints --replace', async () => {
    const result = await lupina('import', join(SAMPLES, 'tunnel-setkey.conf'));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /a profile with the name "tunnel-setkey" already exists/);
    assert.match(result.stderr, /--replace/);
    assert.doesNotMatch(result.stderr, /\{ replace: true \}/);
    assert.doesNotMatch(result.stderr, /import again with replace/);
  });

  it('escapes control characters in names', async () => {
    const result = await lupina('delete', 'x\u001b]0;title\u0007\u009b2J');
    assert.equal(result.code, 1);
    assert.doesNotMatch(result.stderr, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    assert.match(result.stderr, /no profile named "x\\x1b\]0;title\\x07\\x9b2J"/);
  });

  it('escapes control characters in usage errors', async () => {
    const result = await lupina('\u001b[2J');
    assert.equal(result.code, 2);
    assert.doesNotMatch(result.stderr, /\u001b/);
    assert.match(result.stderr, /unknown command "\\x1b\[2J"/);
  });

  for (const args of [['status', 'foo'], ['list', 'foo'], ['import', 'a.conf', 'b.conf'], ['delete'], ['connect', 'a', 'b']]) {
    it(`rejects ${args.join(' ')}`, async () => {
      const result = await lupina(...args);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /usage:/);
      assert.match(result.stderr, new RegExp(`lupina ${args[0]} takes`));
    });
  }

  it('rejects options of other commands', async () => {
    const result = await lupina('list', '--replace');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /option --replace does not apply to lupina list/);
  });

  it('help documents exit statuses', async () => {
    const result = await lupina('--help');
    assert.equal(result.code, 0);
    assert.match(result.stdout, /--verbose also prints debug log lines/);
    assert.match(result.stdout, /130 SIGINT/);
    assert.match(result.stdout, /143 SIGTERM/);
    assert.match(result.stdout, /1 MiB/);
  });
});
