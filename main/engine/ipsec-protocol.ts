/**
 * What ESP and AH each implement for a security association. The SA runs the steps in the
 * order of RFC 4303 section 3.4 and RFC 4302 section 3.4: read the sequence number, check the
 * replay window, verify the ICV, update the window, then finish the packet.
 */

import type { DropReason, PacketResult } from './counters.js';
import type { IpHeaderInfo } from './ip-packet.js';

/** A packet whose ICV verified; `finish` turns it into the inner packet. */
export interface AuthenticatedPacket {
  /** The whole received IP packet. */
  packet: Uint8Array;
  header: IpHeaderInfo;
  /** ESP: the decrypted payload with padding and trailer. AH: the bytes after the AH header. */
  payload: Uint8Array;
  /** AH only: the Next Header field of the AH header. */
  nextHeader?: number;
  /** AH only: the AH header length in bytes. */
  headerLength?: number;
}

export interface IpsecProtocol {
  /** Bytes that protecting an inner packet of `innerLength` bytes adds, outer IP header included. */
  overhead(innerLength: number, family: 4 | 6): number;
  /** Reads the low 32 bits of the sequence number, or returns a drop reason for a short packet. */
  readSequence(packet: Uint8Array, header: IpHeaderInfo): number | DropReason;
  /** Builds the protected packet for an inner packet, with sequence number `seq`. */
  protect(inner: Uint8Array, innerHeader: IpHeaderInfo, seq: number): PacketResult;
  /** Verifies the ICV with the full sequence number `seq`. */
  authenticate(packet: Uint8Array, header: IpHeaderInfo, seq: number): AuthenticatedPacket | DropReason;
  /** Checks padding and the next header, and returns the inner packet. */
  finish(authenticated: AuthenticatedPacket): PacketResult;
  /** Wipes key material. */
  destroy(): void;
}
