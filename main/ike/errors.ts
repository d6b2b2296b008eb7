/** Errors that end an IKE exchange, with the notify type when the gateway sent one. */

import { notifyName } from './constants.js';

export type IkeErrorCode =
  | 'timeout'
  | 'notify'
  | 'authentication-failed'
  | 'no-proposal-chosen'
  | 'invalid-response'
  | 'certificate'
  | 'closed';

export class IkeError extends Error {
  constructor(
    readonly code: IkeErrorCode,
    message: string,
    readonly notifyType?: number,
  ) {
    super(message);
    this.name = 'IkeError';
  }
}

export function notifyError(exchange: string, notifyType: number): IkeError {
  return new IkeError(
    'notify',
    `${exchange} failed: the gateway sent ${notifyName(notifyType)}`,
    notifyType,
  );
}
