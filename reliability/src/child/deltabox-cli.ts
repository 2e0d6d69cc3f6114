/** The whole `deltabox` CLI as a child-process entry (run with tsx and the deltabox-src condition). */
import { main } from '@deltabox/cli';

process.exitCode = await main(process.argv);
