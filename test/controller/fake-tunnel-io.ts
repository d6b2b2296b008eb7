/**
 * An in-memory `TunnelIo` for connection tests. Its fake TUN devices and transports record what
 * the data plane does with them. Its network applier records apply and revert calls, and can
 * hold a revert open until the test releases it.
 */

import type { TunnelNetworkSettings } from '../../main/net/network-config.js';
import type { NetworkSettingsApplier, TransportSpec, TunnelDevice, TunnelIo, TunnelTransport } from '../../main/controller/tunnel.js';

export class FakeDevice implements TunnelDevice {
  closed = false;
  readonly written: Uint8Array[] = [];
  private handler: (packets: Uint8Array[]) => void = () => undefined;

  constructor(readonly name: string) {}

  onPackets(handler: (packets: Uint8Array[]) => void): void {
    this.handler = handler;
  }

  write(packet: Uint8Array): boolean {
    this.written.push(packet);
    return true;
  }

  close(): void {
    this.closed = true;
  }

  /** Hands packets to the data plane as if an application had sent them into the device. */
  inject(...packets: Uint8Array[]): void {
    this.handler(packets);
  }
}

export class FakeTransport implements TunnelTransport {
  closed = false;
  readonly sent: Uint8Array[] = [];
  readonly counters = { sent: 0 };
  private handler: (packets: Uint8Array[]) => void = () => undefined;

  constructor(readonly label: string) {}

  send(packet: Uint8Array): boolean {
    if (this.closed) {
      return false;
    }
    this.sent.push(packet);
    this.counters.sent += 1;
    return true;
  }

  onPackets(handler: (packets: Uint8Array[]) => void): void {
    this.handler = handler;
  }

  close(): void {
    this.closed = true;
  }

  /** Hands received ESP packets to the data plane. */
  deliver(...packets: Uint8Array[]): void {
    this.handler(packets);
  }
}

/** Records every call in `events`, in order, such as "apply tun0" or "revert tun0". */
export class FakeTunnelIo implements TunnelIo {
  readonly events: string[] = [];
  readonly devices: FakeDevice[] = [];
  readonly transports: FakeTransport[] = [];
  readonly applied: TunnelNetworkSettings[] = [];
  /** While set, every revert waits for this promise before it returns. */
  revertGate: Promise<void> | null = null;
  /** While set, every apply waits for this promise after it is recorded, as a slow `ip` would. */
  applyGate: Promise<void> | null = null;
  /** While set, every revert rejects with this error after the gate. */
  revertError: Error | null = null;

  openDevice(): TunnelDevice {
    const device = new FakeDevice(`tun${this.devices.length}`);
    this.devices.push(device);
    this.events.push(`open ${device.name}`);
    return device;
  }

  async openTransport(spec: TransportSpec): Promise<TunnelTransport> {
    const transport = new FakeTransport(`${spec.type} ${this.transports.length}`);
    this.transports.push(transport);
    this.events.push(`open transport ${spec.type}`);
    return transport;
  }

  network(device: string): NetworkSettingsApplier {
    return {
      apply: async (settings) => {
        this.applied.push(settings);
        this.events.push(`apply ${device}`);
        await this.applyGate;
      },
      revert: async () => {
        this.events.push(`revert ${device}`);
        await this.revertGate;
        if (this.revertError) {
          throw this.revertError;
        }
      },
    };
  }

  async pathMtu(): Promise<number> {
    return 1500;
  }

  /** Returns how often `event` was recorded. */
  count(event: string): number {
    return this.events.filter((entry) => entry === event).length;
  }
}

/** Returns a promise and the function that resolves it. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}
