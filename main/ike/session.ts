/**
 * The message layer of an IKE SA as initiator. It sends requests and retransmits them with
 * exponential back-off until a give-up time (RFC 7296 section 2.1). It matches responses by
 * Message ID, decrypts and reassembles them, and responds to the gateway's requests, resending
 * the cached response when a request repeats. Malformed or unauthenticated messages are logged,
 * counted and dropped, and the IKE SA stays as it was (section 2.21).
 */

import { bytesEqual, toHex } from './bytes.js';
import { ExchangeType, PayloadType } from './constants.js';
import { IkeCounters, type IkeDropReason } from './counters.js';
import { openEncryptedPayload } from './crypto/sk-payload.js';
import { IkeError } from './errors.js';
import { FragmentAssembler } from './fragment-assembler.js';
import type { IkeSaState } from './ike-sa-state.js';
import { parseMessageSafe, type IkeMessage } from './message.js';
import { parsePayloadChain, type Payload, type PlainPayload } from './payloads/chain.js';
import type { SkfPayload } from './payloads/encrypted.js';
import type { Clock, IkeLogger, IkeTransport } from './transport.js';

export interface RetransmitPolicy {
  /** Wait before the first retransmission, in milliseconds. */
  initialTimeoutMs: number;
  /** Each wait is this many times the one before. */
  multiplier: number;
  /** Upper bound of one wait, in milliseconds. */
  maxTimeoutMs: number;
  /** Time after the first transmission when the exchange fails, in milliseconds. */
  giveUpAfterMs: number;
}

/** Dropped messages logged per window; the counters still count every one. */
const DROP_LOG_LIMIT = 10;
const DROP_LOG_WINDOW_MS = 10_000;

export const DEFAULT_RETRANSMIT_POLICY: RetransmitPolicy = {
  initialTimeoutMs: 1000,
  multiplier: 2,
  maxTimeoutMs: 16_000,
  giveUpAfterMs: 30_000,
};

/** Builds the response payloads to a gateway request; an empty list sends an empty response. */
export type RequestHandler = (exchangeType: number, payloads: Payload[]) => PlainPayload[];

interface PendingRequest {
  exchangeType: number;
  messageId: number;
  datagrams: Uint8Array[];
  startedAt: number;
  timeoutMs: number;
  timer: unknown;
  encrypted: boolean;
  resolve(result: { message: IkeMessage; payloads: Payload[] }): void;
  reject(error: Error): void;
}

const EXCHANGE_NAMES: Record<number, string> = {
  [ExchangeType.IKE_SA_INIT]: 'IKE_SA_INIT',
  [ExchangeType.IKE_AUTH]: 'IKE_AUTH',
  [ExchangeType.CREATE_CHILD_SA]: 'CREATE_CHILD_SA',
  [ExchangeType.INFORMATIONAL]: 'INFORMATIONAL',
};

export function exchangeName(type: number): string {
  return EXCHANGE_NAMES[type] ?? `exchange ${type}`;
}

export class IkeSession {
  readonly counters = new IkeCounters();
  private sa: IkeSaState | undefined;
  private pending: PendingRequest | undefined;
  private readonly fragments = new FragmentAssembler();
  private requestHandler: RequestHandler = () => [];
  private closed = false;
  /** Settles when the last request made has finished. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Requests made while another was outstanding, not sent yet. */
  private waiting = 0;
  private dropLogWindowStart = Number.NEGATIVE_INFINITY;
  private dropsLogged = 0;
  private dropsNotLogged = 0;

  constructor(
    private readonly transport: IkeTransport,
    private readonly clock: Clock,
    private readonly logger: IkeLogger,
    private spiI: Uint8Array,
    private readonly policy: RetransmitPolicy = DEFAULT_RETRANSMIT_POLICY,
  ) {
    transport.onDatagram((datagram) => this.receive(datagram));
  }

  get ikeSa(): IkeSaState | undefined {
    return this.sa;
  }

  /**
   * Makes `sa` the IKE SA that messages belong to. After an IKE SA rekey the old SA's keys are
   * zeroed here, once its Delete exchange is done.
   */
  attach(sa: IkeSaState): void {
    const previous = this.sa;
    this.sa = sa;
    this.spiI = sa.spiI;
    this.fragments.clear();
    if (previous !== undefined && previous !== sa) {
      previous.destroy();
    }
  }

  onRequest(handler: RequestHandler): void {
    this.requestHandler = handler;
  }

  /** Sends an unencrypted IKE_SA_INIT request (Message ID 0) and waits for its response. */
  requestInit(datagram: Uint8Array): Promise<IkeMessage> {
    return this.start(ExchangeType.IKE_SA_INIT, 0, [datagram], false).then((r) => r.message);
  }

  /**
   * Sends an encrypted request with the next Message ID and returns the response payloads.
   * RFC 7296 section 2.3: this client keeps a window of one outstanding request, so a request
   * made while another is outstanding waits for it to finish, whether it succeeds or fails.
   */
  request(exchangeType: number, payloads: PlainPayload[]): Promise<Payload[]> {
    let turn: Promise<Payload[]>;
    if (this.pending === undefined && this.waiting === 0) {
      // Sent at once, before this call returns.
      turn = this.requestNow(exchangeType, payloads);
    } else {
      this.waiting++;
      turn = this.queue.then(() => {
        this.waiting--;
        return this.requestNow(exchangeType, payloads);
      });
    }
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async requestNow(exchangeType: number, payloads: PlainPayload[]): Promise<Payload[]> {
    const sa = this.requireSa();
    const messageId = sa.nextRequestId;
    const datagrams = sa.seal(exchangeType, messageId, false, payloads);
    const result = await this.start(exchangeType, messageId, datagrams, true);
    sa.nextRequestId++;
    return result.payloads;
  }

  close(): void {
    this.closed = true;
    if (this.pending !== undefined) {
      this.clock.clearTimer(this.pending.timer);
      this.pending.reject(new IkeError('closed', 'the IKE SA was closed'));
      this.pending = undefined;
    }
    this.fragments.clear();
    this.transport.close();
  }

  private requireSa(): IkeSaState {
    if (this.sa === undefined || this.sa.deleted) {
      throw new IkeError('closed', 'no established IKE SA');
    }
    return this.sa;
  }

  private start(
    exchangeType: number,
    messageId: number,
    datagrams: Uint8Array[],
    encrypted: boolean,
  ): Promise<{ message: IkeMessage; payloads: Payload[] }> {
    if (this.closed) {
      return Promise.reject(new IkeError('closed', 'the IKE session is closed'));
    }
    if (this.pending !== undefined) {
      // RFC 7296 section 2.3: this client keeps a window of one outstanding request.
      return Promise.reject(
        new Error(`${exchangeName(exchangeType)} requested while another is pending`),
      );
    }
    return new Promise((resolve, reject) => {
      const request: PendingRequest = {
        exchangeType,
        messageId,
        datagrams,
        encrypted,
        resolve,
        reject,
        startedAt: this.clock.now(),
        timeoutMs: this.policy.initialTimeoutMs,
        timer: undefined,
      };
      this.pending = request;
      this.transmit(request);
    });
  }

  private transmit(request: PendingRequest): void {
    for (const datagram of request.datagrams) {
      this.transport.send(datagram);
    }
    const elapsed = this.clock.now() - request.startedAt;
    const remaining = this.policy.giveUpAfterMs - elapsed;
    const wait = Math.min(request.timeoutMs, Math.max(remaining, 0));
    request.timer = this.clock.setTimer(() => this.onTimeout(request), wait);
  }

  private onTimeout(request: PendingRequest): void {
    if (this.pending !== request) {
      return;
    }
    const elapsed = this.clock.now() - request.startedAt;
    const name = exchangeName(request.exchangeType);
    if (elapsed >= this.policy.giveUpAfterMs) {
      this.pending = undefined;
      const seconds = Math.round(elapsed / 1000);
      request.reject(
        new IkeError(
          'timeout',
          `no response from the gateway to ${name} (message ID ${request.messageId}) after ` +
            `${seconds} s; check that the gateway address and port are right and reachable`,
        ),
      );
      return;
    }
    this.counters.retransmissions++;
    this.logger.info(
      `retransmitting ${name} request ${request.messageId} after ${request.timeoutMs} ms`,
    );
    request.timeoutMs = Math.min(
      request.timeoutMs * this.policy.multiplier,
      this.policy.maxTimeoutMs,
    );
    this.transmit(request);
  }

  /**
   * Counts a dropped message and logs it. A flood of bad messages is counted in full but logged
   * at most DROP_LOG_LIMIT times per DROP_LOG_WINDOW_MS, then once with the number left out.
   */
  private dropMessage(reason: IkeDropReason, detail: string): void {
    this.counters.drop(reason);
    const now = this.clock.now();
    if (now - this.dropLogWindowStart >= DROP_LOG_WINDOW_MS) {
      if (this.dropsNotLogged > 0) {
        this.logger.warn(`${this.dropsNotLogged} more IKE messages were dropped and not logged`);
      }
      this.dropLogWindowStart = now;
      this.dropsLogged = 0;
      this.dropsNotLogged = 0;
    }
    if (this.dropsLogged < DROP_LOG_LIMIT) {
      this.dropsLogged += 1;
      this.logger.warn(`dropped IKE message: ${detail}`);
    } else {
      this.dropsNotLogged += 1;
    }
  }

  private receive(datagram: Uint8Array): void {
    if (this.closed) {
      return;
    }
    const parsed = parseMessageSafe(datagram);
    if (!parsed.ok) {
      this.dropMessage('malformed', parsed.error.message);
      return;
    }
    const message = parsed.value;
    const { header } = message;
    if (!bytesEqual(header.spiI, this.spiI)) {
      this.dropMessage('unknown-spi', `initiator SPI ${toHex(header.spiI)} is not ours`);
      return;
    }
    // RFC 7296 section 3.1: the Initiator flag marks the original initiator, which is us.
    if (header.initiator) {
      this.dropMessage('malformed', 'the Initiator flag is set on a message from the responder');
      return;
    }
    if (header.response) {
      this.receiveResponse(message);
    } else {
      this.receiveRequest(message);
    }
  }

  private receiveResponse(message: IkeMessage): void {
    const request = this.pending;
    const { header } = message;
    if (request === undefined || header.messageId !== request.messageId) {
      this.dropMessage('unexpected-message-id', `response with message ID ${header.messageId}`);
      return;
    }
    if (header.exchangeType !== request.exchangeType) {
      this.dropMessage(
        'unexpected-exchange',
        `${exchangeName(header.exchangeType)} response ` +
          `to ${exchangeName(request.exchangeType)}`,
      );
      return;
    }
    if (!request.encrypted) {
      this.complete(request, message, message.payloads);
      return;
    }
    if (this.sa !== undefined && !bytesEqual(header.spiR, this.sa.spiR)) {
      this.dropMessage('unknown-spi', `responder SPI ${toHex(header.spiR)} is not this SA's`);
      return;
    }
    const payloads = this.decrypt(message);
    if (payloads !== undefined) {
      this.complete(request, message, payloads);
    }
  }

  private complete(request: PendingRequest, message: IkeMessage, payloads: Payload[]): void {
    this.clock.clearTimer(request.timer);
    this.pending = undefined;
    request.resolve({ message, payloads });
  }

  /**
   * Opens the SK payload, or stores an SKF fragment. Returns the inner payloads, or undefined
   * when the message was dropped or is still incomplete.
   */
  private decrypt(message: IkeMessage): Payload[] | undefined {
    const sa = this.sa;
    if (sa === undefined) {
      this.dropMessage('unexpected-exchange', 'an encrypted message before the IKE SA exists');
      return undefined;
    }
    const last = message.payloads[message.payloads.length - 1];
    if (last?.type !== PayloadType.SK && last?.type !== PayloadType.SKF) {
      // RFC 7296 section 3.14: every message after IKE_SA_INIT is protected.
      this.dropMessage('malformed', 'no SK payload in an encrypted exchange');
      return undefined;
    }
    if (message.payloads.length !== 1) {
      this.dropMessage('malformed', 'payloads outside the SK payload');
      return undefined;
    }

    const bodyStart = last.offset + (last.type === PayloadType.SK ? 4 : 8);
    const opened = openEncryptedPayload(message.raw, bodyStart, sa.inboundKeys());
    if (!opened.ok) {
      this.dropMessage(
        'integrity',
        `${exchangeName(message.header.exchangeType)} ` +
          `message ${message.header.messageId}: ${opened.reason}`,
      );
      return undefined;
    }

    let firstType = last.firstInnerType;
    let plaintext = opened.plaintext;
    if (last.type === PayloadType.SKF) {
      const assembled = this.addFragment(message, last, opened.plaintext);
      if (assembled === undefined) {
        return undefined;
      }
      ({ firstType, plaintext } = assembled);
    }

    const inner = parsePayloadChain(firstType, plaintext, 0, true);
    if (!inner.ok) {
      this.dropMessage('malformed', inner.error.message);
      return undefined;
    }
    return inner.value;
  }

  private addFragment(
    message: IkeMessage,
    fragment: SkfPayload,
    plaintext: Uint8Array,
  ): { firstType: number; plaintext: Uint8Array } | undefined {
    const { header } = message;
    const key = `${header.response ? 'response' : 'request'}:${header.messageId}`;
    const result = this.fragments.add(
      key,
      fragment.fragmentNumber,
      fragment.totalFragments,
      fragment.firstInnerType,
      plaintext,
    );
    if (result.state === 'rejected') {
      this.dropMessage('fragment', result.reason);
      return undefined;
    }
    if (result.state === 'incomplete') {
      return undefined;
    }
    return { firstType: result.firstInnerType, plaintext: result.plaintext };
  }

  private receiveRequest(message: IkeMessage): void {
    const sa = this.sa;
    const { header } = message;
    if (sa === undefined || !bytesEqual(header.spiR, sa.spiR)) {
      this.dropMessage('unknown-spi', 'a request for an IKE SA that is not established');
      return;
    }
    const cached = sa.cachedResponse;
    const repeated = cached !== undefined && header.messageId === cached.messageId;
    if (!repeated && header.messageId !== sa.nextPeerRequestId) {
      this.dropMessage(
        'unexpected-message-id',
        `request with message ID ${header.messageId}, ` + `expected ${sa.nextPeerRequestId}`,
      );
      return;
    }

    const payloads = this.decrypt(message);
    if (payloads === undefined) {
      return;
    }
    if (repeated) {
      // RFC 7296 section 2.1: a retransmitted request gets the same response again.
      this.counters.cachedResponsesResent++;
      for (const datagram of cached.datagrams) {
        this.transport.send(datagram);
      }
      return;
    }

    const response = this.requestHandler(header.exchangeType, payloads);
    const datagrams = sa.seal(header.exchangeType, header.messageId, true, response);
    sa.cachedResponse = { messageId: header.messageId, datagrams };
    sa.nextPeerRequestId++;
    for (const datagram of datagrams) {
      this.transport.send(datagram);
    }
  }
}
