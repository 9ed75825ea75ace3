import { HttpError } from '../adapter.js';

/** Read a body stream into one Buffer, refusing (413) as soon as it passes `limit` bytes. */
export async function readLimited(stream: AsyncIterable<Uint8Array>, limit: number, declaredLength?: string | null): Promise<Buffer> {
  if (declaredLength && Number(declaredLength) > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.byteLength;
    if (size > limit) throw tooLarge(limit);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks, size);
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'payload_too_large', `The body is larger than ${limit} bytes (BODY_LIMIT_BYTES).`);
}
