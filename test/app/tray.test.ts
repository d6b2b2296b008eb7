/** The tray menu model, the state-to-icon mapping, the icon files and the notifications. */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { connectionState, CONNECTION_STATUSES, type ConnectionStatus } from '../../main/controller/connection-state.js';
import type { ProfileSummary, TrayIconName } from '../../main/app/ipc-schema.js';
import { NOTIFICATION_REPEAT_MS, SessionTracker } from '../../main/app/session-tracker.js';
import { parseHostRegisteredReply } from '../../main/app/tray-host.js';
import { trayIconFor, trayMenuModel, type TrayMenuItem, type TrayState } from '../../main/app/tray-model.js';

const OFFICE: ProfileSummary = { id: 'id-office', name: 'Office', kind: 'ikev2', peer: '203.0.113.1', mode: 'tunnel' };
const LAB: ProfileSummary = { id: 'id-lab', name: 'Lab', kind: 'manual', peer: '198.51.100.1', mode: 'transport' };

function state(status: ConnectionStatus, profile?: ProfileSummary, error: string | null = null): TrayState {
  const details = profile ? { profileId: profile.id, profileName: profile.name } : {};
  return { connection: connectionState(status, details), error };
}

function profileItems(items: TrayMenuItem[]) {
  return items.filter((item): item is Extract<TrayMenuItem, { type: 'profile' }> => item.type === 'profile');
}

function actionItems(items: TrayMenuItem[]) {
  return items.filter((item): item is Extract<TrayMenuItem, { type: 'action' }> => item.type === 'action');
}

describe('tray icon mapping', () => {
  const expected: Record<ConnectionStatus, TrayIconName> = {
    disconnected: 'disconnected',
    connecting: 'connecting',
    authenticating: 'connecting',
    connected: 'connected',
    rekeying: 'connecting',
    reconnecting: 'connecting',
    disconnecting: 'connecting',
  };
  for (const status of CONNECTION_STATUSES) {
    it(`maps ${status} to ${expected[status]}`, () => {
      assert.equal(trayIconFor(state(status, OFFICE)), expected[status]);
    });
  }

  it('shows error after a failure', () => {
    assert.equal(trayIconFor(state('disconnected', OFFICE, 'the gateway did not answer')), 'error');
  });

  it('shows connecting over an old error', () => {
    assert.equal(trayIconFor(state('connecting', OFFICE, 'old failure')), 'connecting');
  });

  it('has a distinct PNG per icon', () => {
    const digests = new Set<string>();
    for (const name of ['disconnected', 'connecting', 'connected', 'error'] as const) {
      for (const [suffix, size] of [['', 22], ['@2x', 44]] as const) {
        const png = readFileSync(new URL(`../../assets/tray/${name}${suffix}.png`, import.meta.url));
        assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${name}${suffix} is a PNG`);
        assert.equal(png.readUInt32BE(16), size, `${name}${suffix} width`);
        assert.equal(png.readUInt32BE(20), size, `${name}${suffix} height`);
        digests.add(createHash('sha256').update(png).digest('hex'));
      }
    }
    assert.equal(digests.size, 8);
  });
});

describe('tray menu model', () => {
  it('lists profiles with the active one checked', () => {
    const items = trayMenuModel(state('connected', LAB), [LAB, OFFICE], OFFICE.id);
    const profiles = profileItems(items);
    assert.deepEqual(profiles.map((item) => item.label), ['Lab', 'Office']);
    assert.equal(profiles[0]?.checked, true);
    assert.equal(profiles[1]?.checked, false);
  });

  it('disables switching while connected', () => {
    const profiles = profileItems(trayMenuModel(state('connected', LAB), [LAB, OFFICE], null));
    assert.ok(profiles.every((item) => !item.enabled));
  });

  it('offers disconnect while connected', () => {
    const actions = actionItems(trayMenuModel(state('connected', LAB), [LAB, OFFICE], OFFICE.id));
    assert.equal(actions[0]?.label, 'Disconnect Lab');
    assert.deepEqual(actions[0]?.action, { type: 'disconnect' });
    assert.equal(actions[0]?.enabled, true);
  });

  it('offers disconnect while connecting', () => {
    const actions = actionItems(trayMenuModel(state('connecting', OFFICE), [LAB, OFFICE], LAB.id));
    assert.deepEqual(actions[0]?.action, { type: 'disconnect' });
  });

  it('connects the last-used profile', () => {
    const items = trayMenuModel(state('disconnected'), [LAB, OFFICE], OFFICE.id);
    const actions = actionItems(items);
    assert.equal(actions[0]?.label, 'Connect Office');
    assert.deepEqual(actions[0]?.action, { type: 'connect', profileId: OFFICE.id });
    assert.ok(profileItems(items).every((item) => !item.checked && item.enabled));
  });

  it('falls back to the first profile', () => {
    const actions = actionItems(trayMenuModel(state('disconnected'), [LAB, OFFICE], 'id-deleted'));
    assert.deepEqual(actions[0]?.action, { type: 'connect', profileId: LAB.id });
  });

  it('disables connect without profiles', () => {
    const items = trayMenuModel(state('disconnected'), [], null);
    const actions = actionItems(items);
    assert.equal(actions[0]?.label, 'Connect');
    assert.equal(actions[0]?.enabled, false);
    assert.ok(items.some((item) => item.type === 'label' && /No profiles/.test(item.label)));
  });

  it('ends with show window and quit', () => {
    const actions = actionItems(trayMenuModel(state('disconnected'), [LAB], null));
    assert.deepEqual(actions.slice(-2).map((item) => item.action.type), ['show-window', 'quit']);
  });

  it('states the failure reason', () => {
    const items = trayMenuModel(state('disconnected', OFFICE, 'authentication failed'), [OFFICE], OFFICE.id);
    const first = items[0];
    assert.equal(first?.type, 'label');
    assert.match(first?.type === 'label' ? first.label : '', /authentication failed/);
  });
});

describe('session notifications', () => {
  const at = (ms: number) => () => ms;

  it('notifies a connect', () => {
    const tracker = new SessionTracker(connectionState('disconnected'), at(0));
    tracker.connectRequested();
    tracker.observe(connectionState('connecting', { profileName: 'Office' }));
    const notification = tracker.observe(connectionState('connected', { profileName: 'Office' }));
    assert.equal(notification?.title, 'Lupina: connected');
    assert.equal(notification?.error, false);
  });

  it('notifies a user disconnect', () => {
    const tracker = new SessionTracker(connectionState('connected', { profileName: 'Office' }), at(0));
    tracker.disconnectRequested();
    tracker.observe(connectionState('disconnecting', { profileName: 'Office' }));
    const notification = tracker.observe(connectionState('disconnected', { profileName: 'Office' }));
    assert.equal(notification?.title, 'Lupina: disconnected');
    assert.equal(tracker.trayState.error, null);
  });

  it('reports a lost connection', () => {
    const tracker = new SessionTracker(connectionState('connected', { profileName: 'Office' }), at(0));
    const notification = tracker.observe(connectionState('disconnected', { profileName: 'Office', reason: 'dead peer' }));
    assert.equal(notification?.title, 'Lupina: connection lost');
    assert.equal(notification?.error, true);
    assert.match(notification?.body ?? '', /dead peer/);
    assert.equal(tracker.trayState.error, 'dead peer');
  });

  it('suppresses a repeated failure', () => {
    let now = 0;
    const tracker = new SessionTracker(connectionState('disconnected'), () => now);
    const fail = () => {
      tracker.connectRequested();
      tracker.observe(connectionState('connecting', { profileName: 'Office' }));
      return tracker.observe(connectionState('disconnected', { profileName: 'Office', reason: 'timed out' }));
    };
    assert.notEqual(fail(), null);
    now = 1000;
    assert.equal(fail(), null);
    assert.equal(tracker.suppressed, 1);
    now = 1000 + NOTIFICATION_REPEAT_MS;
    assert.notEqual(fail(), null);
  });

  it('notifies a failed call once', () => {
    const tracker = new SessionTracker(connectionState('disconnected'), at(0));
    tracker.connectRequested();
    tracker.observe(connectionState('connecting', { profileName: 'Office' }));
    assert.notEqual(tracker.observe(connectionState('disconnected', { profileName: 'Office', reason: 'no route' })), null);
    assert.equal(tracker.connectFailed('no route'), null);
  });

  it('clears the error on connect', () => {
    const tracker = new SessionTracker(connectionState('disconnected'), at(0));
    tracker.connectFailed('helper dismissed');
    assert.equal(trayIconFor(tracker.trayState), 'error');
    tracker.connectRequested();
    assert.equal(trayIconFor(tracker.trayState), 'disconnected');
  });
});

describe('tray host detection', () => {
  it('reads a registered host', () => {
    assert.equal(parseHostRegisteredReply('method return time=1 sender=:1.5\n   variant       boolean true\n'), true);
  });

  it('reads a missing host', () => {
    assert.equal(parseHostRegisteredReply('method return time=1 sender=:1.5\n   variant       boolean false\n'), false);
  });
});
