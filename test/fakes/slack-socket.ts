/**
 * A small fake of Slack's Socket Mode endpoint on loopback: Slack faked at the WebSocket boundary.
 * The real `SocketModeClient` (inside a Bolt `App` with `socketMode: true`) gets its URL from
 * `apps.connections.open`, so answer that from the fake Web API with this fake's URL:
 *
 *   fakeSlack.on('apps.connections.open', () => ({ body: { ok: true, url: socket.url } }));
 *
 * Like Slack, it says `hello` as soon as a client connects, wraps each Events API body in an
 * envelope, and expects `{ envelope_id }` back; pings are answered with pongs (the `ws` default).
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** What Slack sends over the socket for one Events API delivery. */
export interface SocketEnvelope {
  envelope_id: string;
  type: 'events_api' | 'interactive' | 'slash_commands';
  payload: object;
  accepts_response_payload: boolean;
  retry_attempt: number;
  retry_reason: string;
}

/** An acknowledgement the client sent back. */
export interface SocketAck {
  envelope_id: string;
  payload?: unknown;
  at: number;
}

export interface SendEventOptions {
  /** Slack's redelivery count (0 for the first delivery). */
  retryAttempt?: number;
  /** Why Slack redelivers, e.g. `timeout` (empty for the first delivery). */
  retryReason?: string;
  /** Reject when no ack arrives within this long (default 5000 ms). */
  ackTimeoutMs?: number;
  /** The envelope's type (default `events_api`): `interactive` or `slash_commands` carry a click or a command. */
  type?: SocketEnvelope['type'];
}

export interface FakeSlackSocket {
  /** The URL `apps.connections.open` should answer with (`ws://127.0.0.1:PORT/link/?ticket=…&app_id=…`). */
  url: string;
  /** Every envelope sent, in order. */
  sent: SocketEnvelope[];
  /** Every ack received, in order. */
  acks: SocketAck[];
  /** The request path and query of each connection, in order (a client may add query parameters). */
  connections: string[];
  /** The number of connections open now (not closing: a close handshake has not begun). */
  readonly openConnections: number;
  /** Resolves once a client is connected and has been sent `hello`. */
  connected(timeoutMs?: number): Promise<void>;
  /** Resolves once no client is connected (every connection's TCP socket is closed). */
  disconnected(timeoutMs?: number): Promise<void>;
  /** Send an `event_callback` body as an `events_api` envelope; resolves with the client's ack. */
  sendEvent(eventCallback: object, options?: SendEventOptions): Promise<SocketAck>;
  /** Ask the clients to reconnect, as Slack does before recycling a server. */
  requestReconnect(reason?: 'warning' | 'refresh_requested' | 'link_disabled'): void;
  /** Stop the server, dropping any client still connected. */
  close(): Promise<void>;
}

export interface FakeSlackSocketOptions {
  appId?: string;
}

/** Start the fake on a free loopback port. */
export async function startFakeSlackSocket(options: FakeSlackSocketOptions = {}): Promise<FakeSlackSocket> {
  const appId = options.appId ?? 'A0PARLEY';
  const sent: SocketEnvelope[] = [];
  const acks: SocketAck[] = [];
  const connections: string[] = [];
  const clients = new Set<WebSocket>();
  const waitingForAck = new Map<string, { acked(ack: SocketAck): void; abandon(why: Error): void }>();
  const watchers = new Set<() => void>();
  const changed = () => watchers.forEach((watch) => watch());

  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;

  server.on('connection', (socket, request) => {
    connections.push(request.url ?? '/');
    clients.add(socket);
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      let message: { envelope_id?: unknown; payload?: unknown };
      try {
        message = JSON.parse(data.toString()) as typeof message;
      } catch {
        return; // Slack ignores what it cannot parse; so do we
      }
      if (typeof message.envelope_id !== 'string') return;
      const ack: SocketAck = { envelope_id: message.envelope_id, payload: message.payload, at: Date.now() };
      acks.push(ack);
      waitingForAck.get(ack.envelope_id)?.acked(ack);
    });
    socket.on('close', () => {
      clients.delete(socket);
      changed();
    });
    socket.on('error', () => socket.terminate());
    socket.send(
      JSON.stringify({
        type: 'hello',
        num_connections: clients.size,
        debug_info: { host: 'fake', approximate_connection_time: 3600 },
        connection_info: { app_id: appId },
      }),
    );
    changed();
  });

  /** Resolve when `done()` holds, re-checking on every connection change. */
  const until = (done: () => boolean, what: string, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`fake Slack socket: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        watchers.delete(check);
      };
      watchers.add(check);
      check();
    });

  return {
    url: `ws://127.0.0.1:${port}/link/?ticket=${randomUUID()}&app_id=${appId}`,
    sent,
    acks,
    connections,
    get openConnections() {
      return [...clients].filter((socket) => socket.readyState === socket.OPEN).length;
    },
    // `hello` is sent synchronously on connection, so a connected client has had it.
    connected: (timeoutMs = 5000) => until(() => clients.size > 0, 'a client to connect', timeoutMs),
    disconnected: (timeoutMs = 5000) => until(() => clients.size === 0, 'every client to disconnect', timeoutMs),
    sendEvent(eventCallback, sendOptions = {}) {
      // Slack sends each envelope over one of the app's connections.
      const [socket] = clients;
      if (!socket) return Promise.reject(new Error('fake Slack socket: no client is connected'));
      const envelope: SocketEnvelope = {
        envelope_id: randomUUID(),
        type: sendOptions.type ?? 'events_api',
        payload: eventCallback,
        accepts_response_payload: false,
        retry_attempt: sendOptions.retryAttempt ?? 0,
        retry_reason: sendOptions.retryReason ?? '',
      };
      const timeoutMs = sendOptions.ackTimeoutMs ?? 5000;
      const acked = new Promise<SocketAck>((resolve, reject) => {
        const settle = () => {
          clearTimeout(timer);
          waitingForAck.delete(envelope.envelope_id);
        };
        const waiter = {
          acked: (ack: SocketAck) => (settle(), resolve(ack)),
          abandon: (why: Error) => (settle(), reject(why)),
        };
        const timer = setTimeout(
          () => waiter.abandon(new Error(`fake Slack socket: envelope ${envelope.envelope_id} was not acknowledged within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waitingForAck.set(envelope.envelope_id, waiter);
      });
      sent.push(envelope);
      socket.send(JSON.stringify(envelope));
      return acked;
    },
    requestReconnect(reason = 'refresh_requested') {
      const message = JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'fake' } });
      for (const socket of clients) socket.send(message);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const waiter of [...waitingForAck.values()]) waiter.abandon(new Error('fake Slack socket: closed before the ack'));
        for (const socket of clients) socket.terminate();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
