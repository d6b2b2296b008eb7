/** Process entry of the CLI: runs `main` and exits with its code. */

import { main } from './lupina.js';

// The exit is explicit because a connect aborted by a signal can leave IKE retransmission
// timers and sockets open, which would keep the process alive. Writes to stdout and stderr are
// synchronous for files, pipes and terminals on Linux, so no output is lost.
// A promise chain, not a top-level await, lets scripts/build-cli-bundle.js bundle this entry as
// CommonJS, the format that the bundle's code cache needs (vm.Script). Node prints a rejection
// and exits with status 1 here, as it does for a rejected top-level await.
void main(process.argv.slice(2)).then((code) => process.exit(code));
