/**
 * The IKE transport of a real connection. IKE_SA_INIT runs on UDP port 500. When NAT traversal
 * applies, IKE floats to port 4500 (RFC 7296 section 2.23) on a `UdpEncapsulationSocket`, the
 * same socket that then carries ESP (RFC 3948), so IKE and ESP share one NAT mapping.
 */

import { createSocket, type Socket } from 'node:dgram';
import { ipVersion, parseAddress } from '../engine/address.js';
import type { IkeEndpoint, IkeLogger, IkeTransport } from '../ike/transport.js';
import { NAT_T_PORT, UdpEncapsulationSocket } from './udp-encapsulation.js';

export const IKE_PORT = 500;

export interface IkeUdpTransportOptions {
  remoteAddress: string;
  remotePort?: number;
  remoteNatTraversalPort?: number;
  /** NAT keepalive interval on the port-4500 socket, in seconds; 0 for none. */
  keepaliveSeconds: number;
  logger: IkeLogger;
}

export class IkeUdpTransport implements IkeTransport {
  private initialSocket: Socket | null = null;
  private natSocket: UdpEncapsulationSocket | null = null;
  private receiver: (datagram: Uint8Array) => void = () => undefined;
  private local: IkeEndpoint = { address: new Uint8Array(4), port: 0 };
  private localText = '';

  private constructor(private readonly options: IkeUdpTransportOptions) {}

  /** Opens a socket connected to the gateway's IKE port; the kernel picks the local address. */
  static async open(options: IkeUdpTransportOptions): Promise<IkeUdpTransport> {
    const transport = new IkeUdpTransport(options);
    await transport.openInitialSocket();
    return transport;
  }

  /** The port-4500 socket after the float, which the tunnel reuses for ESP; null before. */
  get encapsulationSocket(): UdpEncapsulationSocket | null {
    return this.natSocket;
  }

  /** Our address as the kernel chose it for the route to the gateway. */
  get localAddress(): string {
    return this.localText;
  }

  send(datagram: Uint8Array): void {
    if (this.natSocket) {
      this.natSocket.sendIkeMessage(datagram);
      return;
    }
    this.initialSocket?.send(datagram, (error) => {
      if (error) {
        this.options.logger.warn(`IKE send failed: ${error.message}`);
      }
    });
  }

  onDatagram(callback: (datagram: Uint8Array) => void): void {
    this.receiver = callback;
  }

  async floatToNatTraversal(): Promise<void> {
    if (this.natSocket) {
      return;
    }
    this.natSocket = await UdpEncapsulationSocket.open({
      localAddress: this.localAddress,
      localPort: 0,
      remoteAddress: this.options.remoteAddress,
      remotePort: this.options.remoteNatTraversalPort ?? NAT_T_PORT,
      keepaliveSeconds: this.options.keepaliveSeconds,
    });
    this.natSocket.onIkeMessage((message) => this.receiver(message));
    this.local = { address: this.local.address, port: this.natSocket.localPort };
  }

  localEndpoint(): IkeEndpoint {
    return this.local;
  }

  remoteEndpoint(): IkeEndpoint {
    const port = this.natSocket
      ? (this.options.remoteNatTraversalPort ?? NAT_T_PORT)
      : (this.options.remotePort ?? IKE_PORT);
    return { address: parseAddress(this.options.remoteAddress), port };
  }

  /** Closes the port-500 socket; the port-4500 socket belongs to the tunnel once it runs. */
  closeInitialSocket(): void {
    this.initialSocket?.close();
    this.initialSocket = null;
  }

  close(): void {
    this.closeInitialSocket();
    this.natSocket?.close();
    this.natSocket = null;
  }

  private async openInitialSocket(): Promise<void> {
    const socket = createSocket(ipVersion(this.options.remoteAddress) === 6 ? 'udp6' : 'udp4');
    socket.on('message', (message) => this.receiver(new Uint8Array(message)));
    socket.on('error', (error) => this.options.logger.warn(`IKE socket error: ${error.message}`));
    const port = this.options.remotePort ?? IKE_PORT;
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, () => {
        // connect() reports a failure, such as no route to the gateway, to this callback only.
        socket.connect(port, this.options.remoteAddress, (error?: Error) => {
          socket.off('error', reject);
          if (error) {
            socket.close();
            reject(new Error(`cannot reach the gateway ${this.options.remoteAddress} on UDP port ${port}: ${error.message}. ` +
              'Check the network connection and the route to the gateway (ip route get ' +
              `${this.options.remoteAddress})`));
            return;
          }
          resolve();
        });
      });
    });
    const address = socket.address();
    this.localText = address.address;
    this.local = { address: parseAddress(address.address), port: address.port };
    this.initialSocket = socket;
  }
}
