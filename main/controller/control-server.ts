/**
 * The control socket that `lupina connect` serves and `lupina status` reads: a Unix-domain
 * socket with mode 0600, one JSON request per line and one JSON response per line.
 *
 *   {"method":"status"}      -> {"ok":true,"result":{...ControllerStatus}}
 *   {"method":"disconnect"}  -> {"ok":true,"result":null}
 *   anything else            -> {"ok":false,"error":{"code":"invalid-request","message":"..."}}
 */

import { chmod, lstat, mkdir, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { ControllerStatus } from './controller.js';

/** Longest request line accepted; a status request is a few dozen bytes. */
const MAX_REQUEST_BYTES = 4096;
const CLIENT_TIMEOUT_MS = 5000;
/** Wait for a connection to an existing socket before it counts as in use. A live Unix socket accepts at once. */
const PROBE_TIMEOUT_MS = 1000;
/**
 * Maximum byte length of a Unix socket path on Linux: sun_path in struct sockaddr_un has 108
 * bytes, one of them for the terminating NUL (unix(7)). Node 20 truncates longer paths silently.
 */
export const MAX_UNIX_SOCKET_PATH_BYTES = 107;

export type ControlServerErrorCode = 'path-too-long' | 'in-use' | 'not-a-socket' | 'listen-failed';

export class ControlServerError extends Error {
  constructor(readonly code: ControlServerErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ControlServerError';
  }
}

export interface ControlHandlers {
  status(): ControllerStatus;
  disconnect(): Promise<void>;
}

export type ControlResponse =
  | { ok: true; result: unknown }
  | { ok: false; error: { code: string; message: string } };

export class ControlServer {
  private closed = false;

  private constructor(private readonly server: Server, readonly path: string) {}

  /**
   * Listens on `path` with mode 0600. An existing socket that accepts a connection belongs to a
   * running process and raises ControlServerError 'in-use'. A socket that refuses is stale (its
   * process died) and is removed. Any other file at `path` raises 'not-a-socket'.
   */
  static async listen(path: string, handlers: ControlHandlers): Promise<ControlServer> {
    checkSocketPathLength(path);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await removeStaleSocket(path);
    const server = createServer((socket) => serveClient(socket, handlers));
    try {
      await listenOn(server, path);
    } catch (error) {
      throw new ControlServerError('listen-failed', `cannot listen on the control socket ${path}: ${(error as Error).message}`, { cause: error });
    }
    const controlServer = new ControlServer(server, path);
    try {
      await chmod(path, 0o600);
    } catch (error) {
      await controlServer.close();
      throw new ControlServerError('listen-failed', `cannot restrict the control socket ${path} to mode 0600: ${(error as Error).message}`, { cause: error });
    }
    return controlServer;
  }

  /** Stops listening and removes the socket file. Calling it again does nothing. */
  async close(): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.path, { force: true });
  }
}

function checkSocketPathLength(path: string): void {
  const length = Buffer.byteLength(path);
  if (length > MAX_UNIX_SOCKET_PATH_BYTES) {
    throw new ControlServerError('path-too-long',
      `the control socket path ${path} is ${length} bytes, over the ${MAX_UNIX_SOCKET_PATH_BYTES}-byte limit of Unix socket paths`);
  }
}

async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return;
    }
    throw error;
  }
  if (!isSocket) {
    throw new ControlServerError('not-a-socket', `${path} exists and is not a socket; move it away so the control socket can be created there`);
  }
  // NOTE: two processes that start at the same moment can both find the socket stale, and
  // the later one then removes the earlier one's new socket.
  if (await socketAccepts(path)) {
    throw new ControlServerError('in-use', `another process listens on the control socket ${path}`);
  }
  await rm(path, { force: true });
}

/**
 * Returns whether a process accepts connections on the Unix socket at `path`. Only a refused or
 * missing socket counts as free. A timeout or any other error counts as in use, so that a live
 * socket is never removed.
 */
function socketAccepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    const finish = (accepts: boolean) => {
      socket.destroy();
      resolve(accepts);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => finish(true));
    socket.once('connect', () => finish(true));
    socket.once('error', (error: NodeJS.ErrnoException) => finish(error.code !== 'ECONNREFUSED' && error.code !== 'ENOENT'));
  });
}

function listenOn(server: Server, path: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function serveClient(socket: Socket, handlers: ControlHandlers): void {
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
    const length = Buffer.byteLength(path);
    if (length > MAX_UNIX_SOCKET_PATH_BYTES) {
      reject(new ControlClientError(
        `the control socket path ${path} is ${length} bytes, over the ${MAX_UNIX_SOCKET_PATH_BYTES}-byte limit of Unix socket paths`,
        'path-too-long'));
      return;
    }
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
