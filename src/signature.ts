/**
 * Webhook signature checks most platforms share: an HMAC over the raw body (sometimes with a
 * timestamp in front), sent as hex in a header, compared in constant time so a forger learns
 * nothing from how long a refusal takes.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Constant-time equality of two secrets or digests; different lengths are simply unequal. */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const left = typeof a === 'string' ? Buffer.from(a) : a;
  const right = typeof b === 'string' ? Buffer.from(b) : b;
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Whether `given` is the secret `secret` (a bearer token, an admin token), compared as SHA-256
 * digests, always 32 bytes: comparing the strings returns at once on a length that differs, and so
 * would tell a guesser the secret's length by how long a refusal takes.
 */
export function sameSecret(given: string, secret: string): boolean {
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(secret).digest());
}

/** The HMAC of `payload` (its pieces in order) under `secret`. */
export function hmac(algorithm: string, secret: string, payload: string | Buffer | readonly (string | Buffer)[]): Buffer {
  const mac = createHmac(algorithm, secret);
  for (const piece of Array.isArray(payload) ? payload : [payload]) mac.update(piece as string | Buffer);
  return mac.digest();
}

/**
 * Whether `signatureHex` is the HMAC of `payload` under any of `secrets` (several while a secret
 * is rotated). Hex is read case-insensitively; anything that is not hex never matches.
 */
export function hmacMatches(signatureHex: string, secrets: readonly string[], payload: string | Buffer | readonly (string | Buffer)[], algorithm = 'sha256'): boolean {
  // Hex decoding stops at the first character that is not hex: a shorter result means not all hex.
  const given = Buffer.from(signatureHex, 'hex');
  if (signatureHex.length === 0 || given.length * 2 !== signatureHex.length) return false;
  for (const secret of secrets) if (safeEqual(given, hmac(algorithm, secret, payload))) return true;
  return false;
}
