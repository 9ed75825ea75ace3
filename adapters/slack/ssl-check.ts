/**
 * Slack's SSL check: a form `ssl_check=1&token=…` it posts to a slash command's Request URL to
 * test the certificate, without the signature headers. Bolt's HTTPReceiver answers it 200 before
 * checking any signature; so does parley, and nothing else in the body is read, so an unsigned
 * request reaches no listener whatever it carries besides.
 */
import { mediaTypeOf, type HttpRequest } from 'parley/adapter-kit';

export function isSslCheck(request: HttpRequest): boolean {
  if (mediaTypeOf(request) !== 'application/x-www-form-urlencoded') return false;
  const text = request.body.toString('utf8');
  // Exactly "1", as Bolt: any other value is an ordinary form, signed like every request.
  return text.includes('ssl_check=') && new URLSearchParams(text).get('ssl_check') === '1';
}
