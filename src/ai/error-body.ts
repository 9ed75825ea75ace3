/**
 * A refusal in a shape other than OpenAI's `{ "error": { "message" } }`: FastAPI-built servers (TGI,
 * some vLLM and LiteLLM routes) answer `{ "detail": … }`, others a bare `{ "message": … }`. The
 * openai SDK reads only `error`, so their words were lost ("400 status code (no body)"), and with
 * them a "context length" that shortens the history. Such a body is given in OpenAI's shape.
 */
export async function inOpenAiErrorShape(response: Response): Promise<Response> {
  if (response.ok || !/json/i.test(response.headers.get('content-type') ?? '')) return response;
  const text = await response.text();
  const again = (body: string) => new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return again(text); // the SDK quotes a body that is not JSON as it is
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body) || 'error' in body) return again(text);
  const { detail } = body as { detail?: unknown };
  const error = detail === undefined ? body : { message: typeof detail === 'string' ? detail : JSON.stringify(detail) };
  return again(JSON.stringify({ error }));
}
