/**
 * The load test's server process: one Node process serving several folders (one Fastify app each, on its
 * own port), because a deltabox server serves one folder and a scanner owns it (the client is the source
 * of truth, so 16 scanners on one folder would delete each other's files). Pino request lines of every
 * app go to stdout; the ports are written as JSON to the file named by the first argument.
 * Usage: load-host.ts PORTS_FILE SDIR...
 */
import { writeFileSync } from 'node:fs';
import { buildServer } from '@deltabox/server';

const [portsFile, ...sdirs] = process.argv.slice(2);
if (!portsFile || sdirs.length === 0) {
  process.stderr.write('usage: load-host.ts PORTS_FILE SDIR...\n');
  process.exit(2);
}
const apps: Array<Awaited<ReturnType<typeof buildServer>>> = [];
const ports: number[] = [];
for (const sdir of sdirs) {
  const app = await buildServer({ sdir, logger: { level: 'info' } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  ports.push(typeof address === 'object' && address ? address.port : 0);
  apps.push(app);
}
writeFileSync(portsFile, JSON.stringify(ports));
const stop = (): void => {
  void Promise.all(apps.map((a) => a.close())).then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
