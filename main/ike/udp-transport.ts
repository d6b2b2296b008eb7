/**
 * A plain `node:dgram` IKE transport for tests: UDP port 500 first, then
 * port 4500 after the float, where each IKE message follows a 4-byte zero non-ESP marker
 * (RFC 3948 section 2.2). The production transport, which shares port 4500 with ESP, lives in
 * main/net.
 */

import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { parseAddress } from '../engine/address.js';
import type { IkeEndpoint, IkeLogger, IkeTransport } from './transport.js';
import { silentLogger } from './transport.js';

export const IKE_PORT = 500;
export const NAT_T_PORT = 4500;
const NON_ESP_MARKER = new Uint8Array(4);

export interface UdpTransportOptions {
  remoteAddress: string;
  remotePort?: number;
  remoteNatTraversalPort?: number;
  /** Local address to bind; the system picks one by default. */
  localAddress?: string;
  logger?: IkeLogger;
}

export class UdpIkeTransport implements IkeTransport {
  private socket: Socket | undefined;
  private floated = false;
  private receiver: (datagram: Uint8Array) => void = () => undefined;
  private local: IkeEndpoint = { address: new Uint8Array(4), port: 0 };
  private readonly logger: IkeLogger;

  private constructor(private readonly options: UdpTransportOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  /** Opens a socket connected to the gateway's port 500. */
  static async open(options: UdpTransportOptions): Promise<UdpIkeTransport> {
    const transport = new UdpIkeTransport(options);
    await transport.connect(options.remotePort ?? IKE_PORT);
    return transport;
  }

  private async connect(port: number): Promise<void> {
    const type = isIPv6(this.options.remoteAddress) ? 'udp6' : 'udp4';
    const socket = createSocket(type);
    socket.on('message', (message) => this.onMessage(new Uint8Array(message)));
    socket.on('error', (error) => this.logger.warn(`IKE socket error: ${error.message}`));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: this.options.localAddress, port: 0 }, () => {
        socket.connect(port, this.options.remoteAddress, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    });
    const address = socket.address();
    this.local = { address: parseAddress(address.address), port: address.port };
    this.socket?.close();
    this.socket = socket;
  }

  private onMessage(message: Uint8Array): void {
    if (!this.floated) {
      this.receiver(message);
      return;
    }
    // RFC 3948 section 2.2: on port 4500, IKE starts with four zero bytes. Anything else is
    // ESP, which belongs to the ESP engine's socket, so this transport drops it.
    const marked = message.length >= 4 && message.subarray(0, 4).every((byte) => byte === 0);
    if (!marked) {
      this.logger.debug('ignored a non-IKE datagram on the NAT-T port');
      return;
    }
    this.receiver(message.subarray(4));
  }

  send(datagram: Uint8Array): void {
    const payload = this.floated ? Buffer.concat([NON_ESP_MARKER, datagram]) : datagram;
    this.socket?.send(payload, (error) => {
      if (error) {
        this.logger.warn(`IKE send failed: ${error.message}`);
      }
    });
  }

  onDatagram(callback: (datagram: Uint8Array) => void): void {
    this.receiver = callback;
  }

  async floatToNatTraversal(): Promise<void> {
    if (this.floated) {
      return;
    }
    await this.connect(this.options.remoteNatTraversalPort ?? NAT_T_PORT);
    this.floated = true;
  }

  localEndpoint(): IkeEndpoint {
    return this.local;
  }

  remoteEndpoint(): IkeEndpoint {
    const port = this.floated
      ? (this.options.remoteNatTraversalPort ?? NAT_T_PORT)
      : (this.options.remotePort ?? IKE_PORT);
    return { address: parseAddress(this.options.remoteAddress), port };
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
  }
}
