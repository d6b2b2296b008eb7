/** Process entry of the CLI: runs `main` and exits with its code. */

import { main } from './lupina.js';

process.exitCode = await main(process.argv.slice(2));
