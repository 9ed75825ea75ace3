/**
 * A local HTTP proxy in front of moto that refuses the DynamoDB requests `throttles` picks with
 * DynamoDB's throttling answer (400 ProvisionedThroughputExceededException, not applied), which
 * the SDK retries, or with the `answer` given (an SQS error); every other request is forwarded as it comes.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { forward } from './lost-answer.js';

export interface ThrottlingProxy {
  /** http://127.0.0.1:<port>: the endpoint to give the client under test */
  url: string;
  /** How many requests were refused. */
  readonly refused: number;
  close(): Promise<void>;
}

export interface ThrottlingOptions {
  /** Refuse this request? (`target`: the x-amz-target header, e.g. DynamoDB_20120810.DeleteItem) */
  throttles(target: string, body: string): boolean;
  /** How long a refusal takes to arrive (default at once); Infinity: never (an endpoint that stopped answering). */
  answerAfterMs?: number;
  /** The refusal sent instead of DynamoDB's throttling 400 (e.g. SQS's 500 InternalError or its RequestThrottled). */
  answer?: { status: number; body: string };
}

const THROTTLED = JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'The level of configured provisioned throughput for the table was exceeded' });

export async function startThrottlingProxy(target: string, options: ThrottlingOptions): Promise<ThrottlingProxy> {
  let refused = 0;
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      outgoing.on('error', () => undefined);
      if (options.throttles(header(incoming.headers, 'x-amz-target'), body.toString())) {
        refused++;
        if (options.answerAfterMs === Infinity) return; // held open until close()
        const { status, body: refusal } = options.answer ?? { status: 400, body: THROTTLED };
        const refuse = () => void outgoing.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(refusal);
        return void setTimeout(refuse, options.answerAfterMs ?? 0);
      }
      forward(target, incoming.method ?? 'POST', incoming.url ?? '/', incoming.headers, body).then(
        (answer) => void outgoing.writeHead(answer.status, answer.headers).end(answer.body),
        () => outgoing.destroy(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    get refused() {
      return refused;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}
