/**
 * Counts the bytes that really crossed the network, headers and TLS included: every socket the HTTP
 * client opens is tracked, and its `bytesWritten` / `bytesRead` are summed (live sockets included).
 */
import type { Socket } from 'node:net';

export interface WireTotals {
  sentBytes: number;
  receivedBytes: number;
}

export class WireCounter {
  readonly #live = new Set<Socket>();
  #closedSent = 0;
  #closedReceived = 0;

  /** Starts counting `socket`; its totals are kept after it closes. */
  track(socket: Socket): void {
    this.#live.add(socket);
    socket.once('close', () => {
      this.#live.delete(socket);
      this.#closedSent += socket.bytesWritten;
      this.#closedReceived += socket.bytesRead;
    });
  }

  totals(): WireTotals {
    let sentBytes = this.#closedSent;
    let receivedBytes = this.#closedReceived;
    for (const socket of this.#live) {
      sentBytes += socket.bytesWritten;
      receivedBytes += socket.bytesRead;
    }
    return { sentBytes, receivedBytes };
  }
}
