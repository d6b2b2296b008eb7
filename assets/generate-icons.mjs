#!/usr/bin/env node
// Draws the tray icons (a shield in four states) and the app icon as PNG files, with no image
// library: each pixel is sampled 4x4 times for anti-aliasing and written with zlib.
// Usage: node assets/generate-icons.mjs   (writes assets/tray/*.png and assets/icons/*.png)
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) {
    c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) {
    c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** Encodes RGBA pixels as a PNG (colour type 6, 8 bits per channel). */
function encodePng(size, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8;
  header[9] = 6;
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    rows[y * (size * 4 + 1)] = 0;
    rgba.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

/** Tests whether (x, y) in unit coordinates (0..1) is inside the shield: flat top, straight sides, curved point. */
function inShield(x, y, inset = 0) {
  const left = 0.14 + inset;
  const right = 0.86 - inset;
  const top = 0.08 + inset;
  if (y < top || x < left || x > right) {
    return false;
  }
  if (y <= 0.5) {
    return true;
  }
  // Below the middle the sides curve in to the point at (0.5, 0.94 - inset).
  const t = (y - 0.5) / (0.44 - inset);
  if (t > 1) {
    return false;
  }
  const halfWidth = (0.36 - inset) * Math.sqrt(1 - t * t);
  return Math.abs(x - 0.5) <= halfWidth;
}

const MARKS = {
  // Outline only: the tunnel is down.
  disconnected: (x, y) => inShield(x, y, 0.09) ? 'clear' : null,
  // Three dots: work in progress.
  connecting: (x, y) => [0.32, 0.5, 0.68].some((cx) => (x - cx) ** 2 + (y - 0.45) ** 2 < 0.07 ** 2) ? 'mark' : null,
  // A check mark: the tunnel is up.
  connected: (x, y) => {
    const onShort = Math.abs((y - 0.5) - (x - 0.33)) < 0.075 && x > 0.28 && x < 0.47;
    const onLong = Math.abs((y - 0.64) + (x - 0.45) * 1.25) < 0.085 && x > 0.42 && x < 0.72;
    return onShort || onLong ? 'mark' : null;
  },
  // An exclamation mark: the last connection failed.
  error: (x, y) => {
    const bar = Math.abs(x - 0.5) < 0.07 && y > 0.22 && y < 0.56;
    const dot = (x - 0.5) ** 2 + (y - 0.7) ** 2 < 0.075 ** 2;
    return bar || dot ? 'mark' : null;
  },
};

const COLOURS = {
  disconnected: [0x7a, 0x80, 0x8c],
  connecting: [0xd9, 0x8c, 0x00],
  connected: [0x1f, 0x9d, 0x55],
  error: [0xd3, 0x2f, 0x2f],
};

function draw(state, size) {
  const rgba = Buffer.alloc(size * size * 4);
  const samples = 4;
  const colour = COLOURS[state];
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let body = 0;
      let mark = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const x = (px + (sx + 0.5) / samples) / size;
          const y = (py + (sy + 0.5) / samples) / size;
          if (!inShield(x, y)) {
            continue;
          }
          const kind = MARKS[state](x, y);
          if (kind === 'clear') {
            continue;
          }
          if (kind === 'mark') {
            mark += 1;
          } else {
            body += 1;
          }
        }
      }
      const total = samples * samples;
      const alpha = (body + mark) / total;
      const white = (body + mark) === 0 ? 0 : mark / (body + mark);
      const offset = (py * size + px) * 4;
      for (let c = 0; c < 3; c++) {
        rgba[offset + c] = Math.round(colour[c] * (1 - white) + 255 * white);
      }
      rgba[offset + 3] = Math.round(alpha * 255);
    }
  }
  return encodePng(size, rgba);
}

const directory = new URL('.', import.meta.url);
for (const state of Object.keys(COLOURS)) {
  writeFileSync(new URL(`tray/${state}.png`, directory), draw(state, 22));
  writeFileSync(new URL(`tray/${state}@2x.png`, directory), draw(state, 44));
}
for (const size of [16, 32, 48, 64, 128, 256, 512]) {
  writeFileSync(new URL(`icons/${size}x${size}.png`, directory), draw('connected', size));
}
writeFileSync(new URL('icons/lupina.png', directory), draw('connected', 256));
