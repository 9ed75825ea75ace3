/**
 * An endpoint for DynamoDB and SQS (JSON protocol) that answers every call as AWS answers an access
 * key it does not know: what the SDK meets with wrong credentials, without reaching AWS.
 */
import { createServer } from 'node:http';

export interface RefusingAws {
  /** http://127.0.0.1:<port>, for AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SQS. */
  url: string;
  close(): Promise<void>;
}

export async function startRefusingAws(): Promise<RefusingAws> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () =>
      response
        .writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': 'InvalidClientTokenId;Sender' })
        .end(JSON.stringify({ __type: 'com.amazon.coral.service#UnrecognizedClientException', message: 'The security token included in the request is invalid.' })),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
