/**
 * The end-to-end benches' sender: HTTP/1.1 POSTs over keep-alive sockets, one request at a time
 * per socket, written in one piece and read back as status code and body length. It stands in for
 * Slack's own senders, which run on Slack's machines: on this 2-core machine it shares the cores
 * with parley, so it should cost as little as it can. node:http's client costs several times more
 * per request (its agent, parser and stream machinery), CPU that would otherwise go to parley.
 */
import net from 'node:net';

export interface RawAnswer {
  status: number;
}

interface Pending {
  resolve(answer: RawAnswer): void;
  reject(error: Error): void;
}

/** One keep-alive connection: a request goes out when the previous answer is in. */
class Connection {
  private buffer: Buffer = Buffer.alloc(0);
  private pending?: Pending;
  readonly socket: net.Socket;

  constructor(
    host: string,
    port: number,
    private readonly onIdle: (connection: Connection) => void,
    private readonly onGone: (connection: Connection) => void,
  ) {
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    const gone = (error?: Error) => {
      this.onGone(this);
      this.pending?.reject(error ?? new Error('connection closed'));
      this.pending = undefined;
    };
    this.socket.on('error', gone);
    this.socket.on('close', () => gone());
  }

  send(head: string, body: Buffer, pending: Pending): void {
    this.pending = pending;
    this.socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
  }

  /** Parse as much of the answer as has come: status line, headers, then a Content-Length or chunked body. */
  private read(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const headEnd = this.buffer.indexOf('\r\n\r\n');
    if (headEnd < 0 || !this.pending) return;
    const head = this.buffer.toString('latin1', 0, headEnd);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    let end: number;
    if (length) {
      end = headEnd + 4 + Number(length[1]);
    } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      const last = this.buffer.indexOf('\r\n0\r\n\r\n', headEnd);
      if (last < 0) return;
      end = last + 7;
    } else {
      end = headEnd + 4;
    }
    if (this.buffer.length < end) return;
    this.buffer = this.buffer.subarray(end);
    const { resolve } = this.pending;
    this.pending = undefined;
    resolve({ status });
    this.onIdle(this);
  }
}

/** Keep-alive connections to one host and port, opened as requests need them. */
export class RawHttpPool {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  /** POST `body` to `path` with `headers`; resolves with the status once the whole answer is in. */
  post(path: string, headers: Record<string, string>, body: string): Promise<RawAnswer> {
    const bytes = Buffer.from(body);
    let head = `POST ${path} HTTP/1.1\r\nhost: ${this.host}:${this.port}\r\ncontent-length: ${bytes.length}\r\n`;
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
    head += '\r\n';
    return new Promise((resolve, reject) => this.connection().send(head, bytes, { resolve, reject }));
  }

  close(): void {
    for (const connection of this.all) connection.socket.destroy();
  }

  private connection(): Connection {
    const reused = this.idle.pop();
    if (reused) return reused;
    const opened = new Connection(
      this.host,
      this.port,
      (c) => this.idle.push(c),
      (c) => {
        this.all.delete(c);
        const at = this.idle.indexOf(c);
        if (at >= 0) this.idle.splice(at, 1);
      },
    );
    this.all.add(opened);
    return opened;
  }
}

const pools = new Map<string, { pool: RawHttpPool; path: string }>();

/** POST to a URL over the pool of its host (one per URL). */
export function rawPost(url: string, headers: Record<string, string>, body: string): Promise<RawAnswer> {
  let target = pools.get(url);
  if (!target) {
    const { hostname, port, pathname } = new URL(url);
    pools.set(url, (target = { pool: new RawHttpPool(hostname, Number(port)), path: pathname }));
  }
  return target.pool.post(target.path, headers, body);
}

/** Close every pooled connection (at the end of a bench). */
export function closeRawPools(): void {
  for (const { pool } of pools.values()) pool.close();
  pools.clear();
}
