/**
 * A TCP proxy in front of a local server whose connections can be cut, as a train's tunnel or a
 * dropped Wi-Fi cuts a browser's: `cut()` ends every open connection and drops each new one at once
 * until `restore()`. (Chromium's offline emulation leaves an open event stream running.)
 */
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';

export interface CuttableProxy {
  /** http://127.0.0.1:<port> */
  url: string;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startCuttableProxy(targetPort: number): Promise<CuttableProxy> {
  let down = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    if (down) return void client.destroy();
    const upstream = createConnection(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => (client.destroy(), upstream.destroy(), sockets.delete(client), sockets.delete(upstream));
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const cutAll = () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    cut: () => ((down = true), cutAll()),
    restore: () => void (down = false),
    close: () => new Promise((resolve) => (cutAll(), server.close(() => resolve()))),
  };
}
