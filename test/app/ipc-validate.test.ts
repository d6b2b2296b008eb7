/**
 * The IPC boundary rejects unknown, malformed and oversized calls with an error envelope, and
 * the controller is never reached for them. A recording stand-in for the Controller notes every
 * method call, so "no side effect" is checked directly.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Log } from '../../main/controller/log.js';
import type { Controller } from '../../main/controller/controller.js';
import { createIpcHandlers, type IpcHandlers } from '../../main/app/ipc-handlers.js';
import { IPC_LIMITS, type IpcResult } from '../../main/app/ipc-schema.js';

const PROFILE_ID = '4f1c2a8e-6b0d-4e5f-9a7b-3c2d1e0f9a8b';

function recordingSetup(): { handlers: IpcHandlers; calls: string[]; sideEffects: string[] } {
  const calls: string[] = [];
  const sideEffects: string[] = [];
  const controller = new Proxy({}, {
    get: (_target, name) => (..._args: unknown[]) => {
      calls.push(String(name));
      if (name === 'status') {
        return { state: { status: 'disconnected', since: new Date(0).toISOString() }, tunnel: null };
      }
      if (name === 'findProfile') {
        return Promise.reject(new Error('not found in the test'));
      }
      return Promise.resolve([]);
    },
  }) as unknown as Controller;
  const handlers = createIpcHandlers({
    controller,
    log: new Log('debug'),
    secretStorage: {
      info: () => ({ backend: 'test', protected: true, plainTextAllowed: false }),
      allowPlainText: async () => {
        sideEffects.push('allowPlainText');
      },
      acceptsSecrets: () => true,
    },
    appInfo: () => ({ version: 'test', platform: 'linux', tunSupported: true, trayHint: null }),
    theme: {
      get: () => 'system',
      set: async () => {
        sideEffects.push('setTheme');
      },
    },
    prepareConnect: async () => {
      sideEffects.push('prepareConnect');
    },
    onUserAction: (action) => {
      sideEffects.push(action.type);
    },
  });
  return { handlers, calls, sideEffects };
}

function assertRejected(result: IpcResult<unknown>, code: string): void {
  assert.equal(result.ok, false, `expected an error envelope, got ${JSON.stringify(result)}`);
  if (!result.ok) {
    assert.equal(result.error.code, code, result.error.message);
    assert.equal(typeof result.error.message, 'string');
    assert.ok(result.error.message.length > 0);
  }
}

const fromJson = (text: string): unknown => JSON.parse(text);

const REJECTED: { name: string; channel: unknown; args: unknown[]; code: string }[] = [
  { name: 'unknown channel', channel: 'eval', args: [], code: 'unknown-call' },
  { name: 'channel in other case', channel: 'ListProfiles', args: [], code: 'unknown-call' },
  { name: 'channel from the prototype', channel: 'constructor', args: [], code: 'unknown-call' },
  { name: 'channel that is a number', channel: 42, args: [], code: 'unknown-call' },
  { name: 'channel that is missing', channel: undefined, args: [], code: 'unknown-call' },
  { name: 'two arguments', channel: 'connect', args: [{ profileId: PROFILE_ID }, 'extra'], code: 'invalid-argument' },
  { name: 'argument to a call without one', channel: 'status', args: ['now'], code: 'invalid-argument' },
  { name: 'connect without argument', channel: 'connect', args: [], code: 'invalid-argument' },
  { name: 'connect with null', channel: 'connect', args: [null], code: 'invalid-argument' },
  { name: 'connect with an array', channel: 'connect', args: [[PROFILE_ID]], code: 'invalid-argument' },
  { name: 'connect with a number id', channel: 'connect', args: [{ profileId: 7 }], code: 'invalid-argument' },
  { name: 'connect with an empty id', channel: 'connect', args: [{ profileId: '' }], code: 'invalid-argument' },
  { name: 'connect with an unknown key', channel: 'connect', args: [{ profileId: PROFILE_ID, force: true }], code: 'invalid-argument' },
  { name: 'connect with __proto__ key', channel: 'connect', args: [fromJson(`{"profileId":"${PROFILE_ID}","__proto__":{"x":1}}`)], code: 'invalid-argument' },
  { name: 'connect with an oversized id', channel: 'connect', args: [{ profileId: 'a'.repeat(IPC_LIMITS.profileKeyChars + 1) }], code: 'too-large' },
  { name: 'connect with a control character', channel: 'connect', args: [{ profileId: 'office\u0000' }], code: 'invalid-argument' },
  { name: 'delete with a class instance', channel: 'deleteProfile', args: [new Date()], code: 'invalid-argument' },
  { name: 'import without bytes', channel: 'importProfile', args: [{ fileName: 'a.conf' }], code: 'invalid-argument' },
  { name: 'import without file name', channel: 'importProfile', args: [{ bytes: 'AAAA' }], code: 'invalid-argument' },
  { name: 'import with numeric bytes', channel: 'importProfile', args: [{ fileName: 'a.conf', bytes: 5 }], code: 'invalid-argument' },
  { name: 'import with an array of bytes', channel: 'importProfile', args: [{ fileName: 'a.conf', bytes: [1, 2, 3] }], code: 'invalid-argument' },
  { name: 'import with invalid base64', channel: 'importProfile', args: [{ fileName: 'a.conf', bytes: 'not base64!' }], code: 'invalid-argument' },
  { name: 'import over 1 MiB', channel: 'importProfile', args: [{ fileName: 'a.conf', bytes: new Uint8Array(IPC_LIMITS.profileFileBytes + 1) }], code: 'too-large' },
  { name: 'import base64 over 1 MiB', channel: 'importProfile', args: [{ fileName: 'a.conf', bytes: 'A'.repeat(IPC_LIMITS.profileFileBase64Chars + 4) }], code: 'too-large' },
  { name: 'import with a long file name', channel: 'importProfile', args: [{ fileName: `${'a'.repeat(300)}.conf`, bytes: 'AAAA' }], code: 'too-large' },
  { name: 'import with a newline in the name', channel: 'importProfile', args: [{ fileName: 'a\n.conf', bytes: 'AAAA' }], code: 'invalid-argument' },
  { name: 'import with a text replace flag', channel: 'importProfile', args: [{ fileName: 'a.conf', bytes: 'AAAA', replace: 'yes' }], code: 'invalid-argument' },
  { name: 'import with a long password', channel: 'importProfile', args: [{ fileName: 'a.p12', bytes: 'AAAA', password: 'p'.repeat(IPC_LIMITS.passwordChars + 1) }], code: 'too-large' },
  { name: 'import with an unknown key', channel: 'importProfile', args: [{ fileName: 'a.conf', bytes: 'AAAA', path: '/etc/shadow' }], code: 'invalid-argument' },
  { name: 'logs with limit zero', channel: 'logs', args: [{ limit: 0 }], code: 'invalid-argument' },
  { name: 'logs with a fractional limit', channel: 'logs', args: [{ limit: 1.5 }], code: 'invalid-argument' },
  { name: 'logs over the limit', channel: 'logs', args: [{ limit: IPC_LIMITS.logEntries + 1 }], code: 'invalid-argument' },
  { name: 'logs with an unknown level', channel: 'logs', args: [{ minLevel: 'trace' }], code: 'invalid-argument' },
  { name: 'theme that does not exist', channel: 'setTheme', args: [{ theme: 'blue' }], code: 'invalid-argument' },
  { name: 'plain-text consent as text', channel: 'allowPlainTextSecrets', args: [{ allow: 'yes' }], code: 'invalid-argument' },
  { name: 'plain-text consent missing', channel: 'allowPlainTextSecrets', args: [{}], code: 'invalid-argument' },
];

describe('IPC validation', () => {
  for (const testCase of REJECTED) {
    it(`rejects ${testCase.name}`, async () => {
      const { handlers, calls, sideEffects } = recordingSetup();
      const result = await handlers.invoke(testCase.channel, testCase.args);
      assertRejected(result, testCase.code);
      assert.deepEqual(calls, [], 'the controller was called');
      assert.deepEqual(sideEffects, [], 'a side effect ran');
    });
  }

  it('passes a valid list call through', async () => {
    const { handlers, calls } = recordingSetup();
    const result = await handlers.invoke('listProfiles', []);
    assert.deepEqual(result, { ok: true, value: [] });
    assert.deepEqual(calls, ['listProfiles']);
  });

  it('turns handler errors into envelopes', async () => {
    const { handlers, calls } = recordingSetup();
    const result = await handlers.invoke('connect', [{ profileId: PROFILE_ID }]);
    assertRejected(result, 'failed');
    assert.deepEqual(calls, ['findProfile']);
  });

  it('accepts a valid logs request', async () => {
    const { handlers } = recordingSetup();
    const result = await handlers.invoke('logs', [{ limit: 5, minLevel: 'warn' }]);
    assert.deepEqual(result, { ok: true, value: [] });
  });

  it('accepts a valid theme', async () => {
    const { handlers, sideEffects } = recordingSetup();
    const result = await handlers.invoke('setTheme', [{ theme: 'dark' }]);
    assert.deepEqual(result, { ok: true, value: 'dark' });
    assert.deepEqual(sideEffects, ['setTheme']);
  });
});
