/**
 * The control socket that `lupina connect` serves and `lupina status` reads: a Unix-domain
 * socket with mode 0600, one JSON request per line and one JSON response per line.
 *
 *   {"method":"status"}      -> {"ok":true,"result":{...ControllerStatus}}
 *   {"method":"disconnect"}  -> {"ok":true,"result":null}
 *   anything else            -> {"ok":false,"error":{"code":"invalid-request","message":"..."}}
 */

import { chmod, mkdir, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { dirname } from 'node:path';
import type { ControllerStatus } from './controller.js';

/** Longest request line accepted; a status request is a few dozen bytes. */
const MAX_REQUEST_BYTES = 4096;
const CLIENT_TIMEOUT_MS = 5000;

export interface ControlHandlers {
  status(): ControllerStatus;
  disconnect(): Promise<void>;
}

export type ControlResponse =
  | { ok: true; result: unknown }
  | { ok: false; error: { code: string; message: string } };

export class ControlServer {
  private constructor(private readonly server: Server, readonly path: string) {}

  static async listen(path: string, handlers: ControlHandlers): Promise<ControlServer> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await rm(path, { force: true });
    const server = createServer((socket) => {
      let buffer = '';
      socket.setEncoding('utf8');
      socket.setTimeout(CLIENT_TIMEOUT_MS, () => socket.destroy());
      socket.on('error', () => socket.destroy());
      socket.on('data', (chunk: string) => {
        buffer += chunk;
        if (buffer.length > MAX_REQUEST_BYTES) {
          socket.end(`${JSON.stringify(failure('invalid-request', `request exceeds ${MAX_REQUEST_BYTES} bytes`))}\n`);
          return;
        }
        const newline = buffer.indexOf('\n');
        if (newline >= 0) {
          const line = buffer.slice(0, newline);
          buffer = '';
          void respond(line, handlers).then((response) => socket.end(`${JSON.stringify(response)}\n`));
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    await chmod(path, 0o600);
    return new ControlServer(server, path);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.path, { force: true });
  }
}

function failure(code: string, message: string): ControlResponse {
  return { ok: false, error: { code, message } };
}

async function respond(line: string, handlers: ControlHandlers): Promise<ControlResponse> {
  let request: unknown;
  try {
    request = JSON.parse(line);
  } catch {
    return failure('invalid-request', 'the request is not valid JSON');
  }
  const method = typeof request === 'object' && request !== null ? (request as { method?: unknown }).method : undefined;
  try {
    switch (method) {
      case 'status':
        return { ok: true, result: handlers.status() };
      case 'disconnect':
        await handlers.disconnect();
        return { ok: true, result: null };
      default:
        return failure('invalid-request', `unknown method ${JSON.stringify(method)}; expected "status" or "disconnect"`);
    }
  } catch (error) {
    return failure('failed', error instanceof Error ? error.message : String(error));
  }
}

export class ControlClientError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = 'ControlClientError';
  }
}

/** Sends one request to a control socket and returns the result. */
export function callControlSocket(path: string, method: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let data = '';
    socket.setEncoding('utf8');
    socket.setTimeout(CLIENT_TIMEOUT_MS, () => {
      socket.destroy();
      reject(new ControlClientError(`no answer from ${path} within ${CLIENT_TIMEOUT_MS} ms`, 'timeout'));
    });
    socket.on('connect', () => socket.write(`${JSON.stringify({ method })}\n`));
    socket.on('data', (chunk: string) => {
      data += chunk;
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const hint = error.code === 'ENOENT' || error.code === 'ECONNREFUSED'
        ? `no connection is running (nothing listens on ${path}); start one with "lupina connect PROFILE"`
        : `cannot reach ${path}: ${error.message}`;
      reject(new ControlClientError(hint, error.code ?? 'failed'));
    });
    socket.on('end', () => {
      try {
        const response = JSON.parse(data) as ControlResponse;
        if (response.ok) {
          resolve(response.result);
        } else {
          reject(new ControlClientError(response.error.message, response.error.code));
        }
      } catch {
        reject(new ControlClientError(`invalid answer from ${path}`, 'invalid-response'));
      }
    });
  });
}
