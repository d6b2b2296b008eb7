/**
 * Stands in for Electron's preload in browser tests. An HTTP server on 127.0.0.1 serves the built
 * renderer and a script that defines `window.lupina`. The script forwards each call to the real
 * IPC handlers (POST /invoke) and receives the pushes as server-sent events (GET /events).
 *
 * The page keeps its strict Content-Security-Policy, widened only by `connect-src 'self'` so the
 * bridge script can reach this server.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

import type { IpcHandlers, PushSender } from '../../../main/app/ipc-handlers.js';
import { INVOKE_CHANNELS, PUSH_CHANNELS } from '../../../main/app/ipc-schema.js';

const BRIDGE_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; object-src 'none'";

/** The largest request body: a 1 MiB profile in base64 plus the JSON around it. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** Returns the browser-side script: window.lupina with the preload's shape, over fetch and EventSource. */
function bridgeScript(): string {
  return `'use strict';
(() => {
  const invokeChannels = ${JSON.stringify(INVOKE_CHANNELS)};
  const pushChannels = ${JSON.stringify(PUSH_CHANNELS)};
  const toBase64 = (bytes) => {
    let text = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    return btoa(text);
  };
  const encode = (value) => {
    if (value instanceof Uint8Array) return toBase64(value);
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, encode(item)]));
    }
    return value;
  };
  const api = {};
  for (const channel of invokeChannels) {
    api[channel] = async (request) => {
      const response = await fetch('/invoke', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ channel, args: request === undefined ? [] : [encode(request)] }),
      });
      return response.json();
    };
  }
  const events = new EventSource('/events');
  api.on = (channel, listener) => {
    if (!pushChannels.includes(channel)) throw new TypeError('unknown push channel ' + channel);
    const handler = (event) => listener(JSON.parse(event.data));
    events.addEventListener(channel, handler);
    return () => events.removeEventListener(channel, handler);
  };
  window.lupina = Object.freeze(api);
})();
`;
}

export interface TestBridge {
  url: string;
  /** Sends a push to every open page, as webContents.send does in the app. */
  push: PushSender;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      throw new Error(`the request body is larger than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startTestBridge(rendererDirectory: string, handlers: IpcHandlers): Promise<TestBridge> {
  const streams = new Set<ServerResponse>();

  async function serveFile(path: string, response: ServerResponse): Promise<void> {
    const relative = normalize(decodeURIComponent(path)).replace(/^([/\\])+/, '');
    const file = join(rendererDirectory, relative === '' ? 'index.html' : relative);
    if (!file.startsWith(rendererDirectory + sep) && file !== rendererDirectory) {
      response.writeHead(404).end();
      return;
    }
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      response.writeHead(404).end();
      return;
    }
    if (extname(file) === '.html') {
      body = Buffer.from(body.toString('utf8')
        .replace(/(<meta http-equiv="Content-Security-Policy" content=")[^"]*(")/, `$1${BRIDGE_POLICY}$2`)
        .replace('<head>', '<head>\n    <script src="/bridge.js"></script>'));
    }
    response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-security-policy': BRIDGE_POLICY });
    response.end(body);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (request.method === 'POST' && url.pathname === '/invoke') {
      const { channel, args } = JSON.parse(await readBody(request)) as { channel: unknown; args: unknown };
      const result = await handlers.invoke(channel, Array.isArray(args) ? args : [args]);
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
      return;
    }
    if (request.method === 'GET' && url.pathname === '/events') {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      response.write(': connected\n\n');
      streams.add(response);
      request.on('close', () => streams.delete(response));
      return;
    }
    if (request.method === 'GET' && url.pathname === '/bridge.js') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bridgeScript());
      return;
    }
    if (request.method === 'GET') {
      await serveFile(url.pathname, response);
      return;
    }
    response.writeHead(405).end();
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) {
        response.writeHead(500, { 'content-type': 'text/plain' });
      }
      response.end(error instanceof Error ? error.message : String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/`,
    push(channel, payload) {
      const message = `event: ${channel}\ndata: ${JSON.stringify(payload)}\n\n`;
      for (const stream of streams) {
        stream.write(message);
      }
    },
    async close() {
      for (const stream of streams) {
        stream.end();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
