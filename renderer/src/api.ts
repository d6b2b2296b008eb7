/** Access to `window.lupina`, the object that the preload (or the test bridge) provides. */

import type { IpcResult, LupinaApi } from '../../main/app/ipc-schema';

declare global {
  interface Window {
    lupina?: LupinaApi;
  }
}

export class ApiMissingError extends Error {
  constructor() {
    super('window.lupina is missing: the page runs outside the Lupina app');
  }
}

export function api(): LupinaApi {
  if (!window.lupina) {
    throw new ApiMissingError();
  }
  return window.lupina;
}

/** Turns an envelope into its value, or throws an Error with the envelope's message. */
export function unwrap<T>(result: IpcResult<T>): T {
  if (!result.ok) {
    const error = new Error(result.error.message);
    error.name = result.error.code;
    throw error;
  }
  return result.value;
}

/** Reads a File as bytes, for importProfile. */
export async function readFileBytes(file: File): Promise<Uint8Array> {
  return new Uint8Array(await file.arrayBuffer());
}
