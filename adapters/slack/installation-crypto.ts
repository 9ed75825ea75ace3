/**
 * Installations at rest: AES-256-GCM under SLACK_INSTALLATION_KEY. Several keys while rotating —
 * the first encrypts, every key decrypts, and a record sealed with an older key is marked for
 * re-encryption. A sealed record is JSON: `{"v":1,"key":<key id>,"iv","tag","data"}` (base64),
 * where the key id is a short fingerprint of the key (never the key) that says which key to try
 * first. The storage key is bound in as associated data, so a record copied under another
 * workspace's key does not decrypt.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const KEY_BYTES = 32;

export interface SealedRecord {
  v: 1;
  /** The fingerprint of the key that sealed it (keyId). */
  key: string;
  iv: string;
  tag: string;
  data: string;
}

export interface Opened {
  plaintext: string;
  /** Which key (index in the list) opened it. */
  keyIndex: number;
  /** True when it was not sealed with the first key: seal it again. */
  needsReencrypt: boolean;
}

/** Refused to decrypt: no key opens the record, or it is not a sealed record. Says nothing of its contents. */
export class InstallationDecryptError extends Error {
  override name = 'InstallationDecryptError';
  /** Permanent until the workspace installs again (or the old key is listed again): read as "not installed". */
  readonly code = 'slack_installation_unreadable';
  constructor(
    message: string,
    /** The fingerprint (keyId) of the key that sealed the record, when the record says. */
    readonly sealedWith?: string,
    /** That key is listed, yet does not open it: the record is damaged, or was copied from another entry. */
    readonly keyListed = false,
  ) {
    super(message);
  }
}

/**
 * The keys from SLACK_INSTALLATION_KEY: comma-separated base64, each exactly 32 bytes. Throws an
 * Error naming the position of a bad key (never its value).
 */
export function parseInstallationKeys(value: string): Buffer[] {
  const parts = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) throw new Error('no key given');
  return parts.map((part, i) => {
    const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(part) ? Buffer.from(part, 'base64') : Buffer.alloc(0);
    if (key.length !== KEY_BYTES) throw new Error(`key ${i + 1} of ${parts.length} is not base64 of ${KEY_BYTES} bytes (got ${key.length} bytes)`);
    return key;
  });
}

/** A short public fingerprint of a key: which key sealed a record, without revealing it. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update('parley-slack-installation-key\0').update(key).digest('hex').slice(0, 12);
}

/** Encrypt `plaintext` with the first key; `aad` (e.g. the storage key) must be given again to open it. */
export function seal(plaintext: string, keys: readonly Buffer[], aad = ''): string {
  const key = keys[0];
  if (!key) throw new Error('no installation key');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const record: SealedRecord = { v: 1, key: keyId(key), iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
  return JSON.stringify(record);
}

/** Decrypt a sealed record with whichever key opens it (the one its fingerprint names first). */
export function open(sealed: string, keys: readonly Buffer[], aad = ''): Opened {
  const record = parseRecord(sealed);
  const ids = keys.map(keyId);
  const order = keys.map((_, i) => i).sort((a, b) => Number(ids[b] === record.key) - Number(ids[a] === record.key));
  for (const i of order) {
    const plaintext = tryOpen(record, keys[i]!, aad);
    if (plaintext !== undefined) return { plaintext, keyIndex: i, needsReencrypt: i !== 0 };
  }
  const listed = ids.includes(record.key);
  const why = listed ? `key ${record.key}, which it lists, does not open it: the record is damaged, or was copied from another entry` : `it was sealed with key ${record.key}; the keys given are ${ids.join(', ')}`;
  throw new InstallationDecryptError(`no key in SLACK_INSTALLATION_KEY opens this installation (${why})`, record.key, listed);
}

/** Whether a sealed record names a key other than the first (cheap: by fingerprint, nothing is decrypted). */
export function needsReencrypt(sealed: string, keys: readonly Buffer[]): boolean {
  return keys[0] === undefined || parseRecord(sealed).key !== keyId(keys[0]);
}

function tryOpen(record: SealedRecord, key: Buffer, aad: string): string | undefined {
  try {
    const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(record.iv, 'base64'));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(record.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(record.data, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

function parseRecord(sealed: string): SealedRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(sealed);
  } catch {
    throw new InstallationDecryptError('not a sealed installation record (not JSON)');
  }
  const r = parsed as Partial<SealedRecord> | null;
  if (!r || r.v !== 1 || typeof r.key !== 'string' || typeof r.iv !== 'string' || typeof r.tag !== 'string' || typeof r.data !== 'string') {
    throw new InstallationDecryptError('not a sealed installation record (unknown shape or version)');
  }
  if (Buffer.from(r.tag, 'base64').length !== 16 || Buffer.from(r.iv, 'base64').length !== IV_BYTES) throw new InstallationDecryptError('not a sealed installation record (bad iv or tag)');
  return r as SealedRecord;
}
