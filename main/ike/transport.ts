/** The I/O and time interfaces that the IKE code runs on, so that tests need no sockets. */

export interface IkeEndpoint {
  address: Uint8Array;
  port: number;
}

export interface IkeTransport {
  /** Sends one IKE message; on port 4500 the transport adds the non-ESP marker. */
  send(datagram: Uint8Array): void;
  /** Registers the receiver of IKE messages, with any non-ESP marker already removed. */
  onDatagram(callback: (datagram: Uint8Array) => void): void;
  /**
   * Moves IKE to UDP port 4500 with the non-ESP marker (RFC 7296 section 2.23, RFC 3948
   * section 2.2). Later `send` calls use the new port.
   */
  floatToNatTraversal(): Promise<void>;
  /** The local and remote endpoints that the NAT detection hashes cover. */
  localEndpoint(): IkeEndpoint;
  remoteEndpoint(): IkeEndpoint;
  close(): void;
}

export interface Clock {
  /** Milliseconds since an arbitrary epoch. */
  now(): number;
  /** The wall-clock time, for certificate validity. */
  date(): Date;
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  date: () => new Date(),
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface IkeLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

export const silentLogger: IkeLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
};
