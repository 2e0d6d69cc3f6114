/** Raw HTTP requests over a socket the test can cut mid-body (client aborts, truncated uploads). */
import { connect, type Socket } from 'node:net';

/** Opens a socket and writes a request head declaring `contentLength`, then `firstBytes` of the body. */
export function startPartialRequest(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  contentLength: number,
  firstBytes: Buffer,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      const head = [`${method} ${path} HTTP/1.1`, 'host: 127.0.0.1', `content-length: ${contentLength}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(head.join('\r\n') + '\r\n\r\n');
      socket.write(firstBytes, () => resolve(socket));
    });
    socket.on('error', reject);
  });
}
