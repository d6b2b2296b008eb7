/** Process entry of the CLI: runs `main` and exits with its code. */

import { main } from './lupina.js';

// The exit is explicit because a connect aborted by a signal can leave IKE retransmission
// timers and sockets open, which would keep the process alive. Writes to stdout and stderr are
// synchronous for files, pipes and terminals on Linux, so no output is lost.
process.exit(await main(process.argv.slice(2)));
