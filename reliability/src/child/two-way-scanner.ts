/**
 * A two-way device as a child process, for as long as `deltabox scan` has no `--mode` flag: a Scanner
 * (@deltabox/scanner) in `two-way` mode with the options the harness gives `deltabox scan` (watcher, 1 s
 * scans, mass deletes confirmed), pino JSON lines on stdout. SIGTERM/SIGINT stop it cleanly; a fatal
 * scanner error exits 1. Usage: two-way-scanner.ts CDIR SERVER_URL TOKEN
 */
import { Scanner, jsonLogger } from '@deltabox/scanner';

const [cdir, server, token] = process.argv.slice(2);
if (!cdir || !server || !token) {
  process.stderr.write('usage: two-way-scanner.ts CDIR SERVER_URL TOKEN\n');
  process.exit(2);
}
const scanner = new Scanner({ cdir, server, token, mode: 'two-way', intervalMs: 1_000, allowMassDelete: true, logger: jsonLogger() });
const stop = (): void => {
  void scanner.stop().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
await scanner.start();
const error = await scanner.failed;
process.stderr.write(`fatal: ${error instanceof Error ? error.message : String(error)}\n`);
await scanner.stop();
process.exit(1);
