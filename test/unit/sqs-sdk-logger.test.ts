import { afterEach, describe, expect, it, vi } from 'vitest';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { createSqsClient } from '../../aws/sqs-sdk.js';

describe('the SQS client parley builds', () => {
  afterEach(() => vi.restoreAllMocks());

  it("prints the SDK's queue-URL warning without the URL's credentials", async () => {
    const warned: string[] = [];
    vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void warned.push(args.map(String).join(' ')));
    // A failed call's error line (the call's input, the queue URL whole) is not printed at all.
    const errors: unknown[][] = [];
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args));
    const endpoint = process.env.AWS_ENDPOINT_URL_SQS;
    delete process.env.AWS_ENDPOINT_URL_SQS;
    const client = createSqsClient({ region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-real-secret' } });
    try {
      // Nothing listens on port 1: the call fails, after the SDK has compared the URL with its endpoint.
      const call = client.send(new GetQueueAttributesCommand({ QueueUrl: 'http://queue-user:Qu3ue-pa55word@127.0.0.1:1/123456789012/jobs.fifo' }));
      await expect(call).rejects.toThrow();
    } finally {
      client.destroy();
      if (endpoint !== undefined) process.env.AWS_ENDPOINT_URL_SQS = endpoint;
    }
    const warning = warned.find((line) => line.includes('differs from SQSClient resolved endpoint'));
    expect(warning).toBeDefined();
    expect(warning).toContain('127.0.0.1:1/123456789012/jobs.fifo');
    expect(warned.join('\n')).not.toContain('Qu3ue-pa55word');
    expect(warned.join('\n')).not.toContain('queue-user');
    expect(errors).toEqual([]);
  });
});
