/**
 * The thread on which V8 frees the memory of dead ArrayBuffers. By default a background thread frees the
 * buffers that a young-generation collection found dead. A tunnel creates a few such buffers
 * per packet: the cipher's output and the HMAC, for example. At tens of thousands of packets
 * per second that thread calls free() all the time. Each call then waits for the allocator
 * lock that the packet path's malloc() is using. On the 2-vCPU benchmark machine, sweeping on
 * the main thread instead raised TCP throughput through the tunnel by about a seventh
 * (docs/benchmarks.md, "Where the TCP time goes").
 */

import { setFlagsFromString } from 'node:v8';

let applied = false;

/**
 * Makes V8 free dead ArrayBuffers on the main thread from now on. V8 reads the flag each time
 * a collection starts a sweep, so setting it while the process runs is safe; it is set once.
 */
export function sweepArrayBuffersOnMainThread(): void {
  if (applied) {
    return;
  }
  applied = true;
  setFlagsFromString('--no-concurrent-array-buffer-sweeping');
}
