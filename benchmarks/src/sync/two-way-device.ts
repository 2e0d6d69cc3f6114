/**
 * The benchmark's two-way device while `deltabox scan` has no `--mode` flag: a Scanner (compiled
 * @deltabox/scanner, never tsx) in `two-way` mode with `deltabox scan`'s defaults (watcher, 5 s scans).
 * SIGINT/SIGTERM stop it; a fatal error exits 1. Usage: node two-way-device.js CDIR SERVER_URL TOKEN
 */
import { Scanner } from '@deltabox/scanner';

const [cdir, server, token] = process.argv.slice(2);
if (!cdir || !server || !token) {
  process.stderr.write('usage: two-way-device.js CDIR SERVER_URL TOKEN\n');
  process.exit(2);
}
const scanner = new Scanner({ cdir, server, token, mode: 'two-way' });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void scanner.stop().then(() => process.exit(0)));
await scanner.start();
process.stderr.write(`fatal: ${String(await scanner.failed)}\n`);
process.exit(1);
