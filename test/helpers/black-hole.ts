/**
 * An endpoint that accepts connections and never answers: what a hung AWS endpoint (or a
 * firewall that drops replies) looks like to the SDK.
 */
import { createServer, type Socket } from 'node:net';

export interface BlackHole {
  /** http://127.0.0.1:<port> */
  url: string;
  close(): Promise<void>;
}

export async function startBlackHole(): Promise<BlackHole> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
