/**
 * Optional Ed25519 signatures (node:crypto), so a DPO can tell evidence the pipeline wrote from a
 * copy edited afterwards, by anyone without the key.
 * - result.json: a detached `result.json.sig` (JSON: the key's id and public key, the SHA-256 and
 *   the signature of result.json's bytes). result.json itself is the same with or without a key.
 * - report.html: a `<meta name="privacy-audit-signature">` in its head, signing the page's bytes
 *   without that one element (the page the embedded result and run info render to), so the run
 *   info (date, command, machine) shown to the reader is covered too.
 * Keys are PEM files: `privacy-audit keygen FILE`, or
 *   openssl genpkey -algorithm ed25519 -out key.pem && openssl pkey -in key.pem -pubout -out key.pub.pem
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { sha256 } from './cache.ts';
import { InputError } from './errors.ts';

export const SIGN_KEY_ENV = 'PRIVACY_AUDIT_SIGN_KEY';

export interface Signer {
  keyId: string;
  publicKeyPem: string;
  sign(data: Buffer | string): string;
}

/** The first 16 hex digits of the SHA-256 of the public key (SPKI, DER): short enough to read aloud. */
export const keyIdOf = (pub: KeyObject): string => sha256(pub.export({ type: 'spki', format: 'der' })).slice(0, 16);

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? `${what} not found` : code === 'EISDIR' ? `${what}: expected a PEM file, found a folder` : `cannot read ${what}: ${(e as Error).message}`, { file });
  }
}

/** Loads an Ed25519 private key (PEM); anything else is the user's mistake (exit 2). */
export function loadSigner(file: string): Signer {
  let key: KeyObject;
  try {
    key = createPrivateKey(readPem(file, 'signing key'));
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError('not a PEM private key (make one with `privacy-audit keygen FILE`)', { file });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new InputError(`expected an Ed25519 private key, got ${key.asymmetricKeyType ?? 'a secret key'}`, { file });
  const pub = createPublicKey(key);
  return {
    keyId: keyIdOf(pub),
    publicKeyPem: pub.export({ type: 'spki', format: 'pem' }).toString(),
    sign: (data) => sign(null, typeof data === 'string' ? Buffer.from(data) : data, key).toString('base64'),
  };
}

/** A public key for `verify --key`; a private key file is accepted too (its public half is used). */
export function loadPublicKey(file: string): KeyObject {
  const pem = readPem(file, 'public key');
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new InputError('not a PEM public key (e.g. the FILE.pub written by `privacy-audit keygen FILE`)', { file });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new InputError(`expected an Ed25519 public key, got ${key.asymmetricKeyType}`, { file });
  return key;
}

export function verifySignature(data: Buffer | string, signature: string, key: KeyObject): boolean {
  try {
    return verify(null, typeof data === 'string' ? Buffer.from(data) : data, key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

// result.json.sig ------------------------------------------------------------------------------

export interface DetachedSignature {
  algorithm: 'Ed25519';
  file: string;
  sha256: string;
  keyId: string;
  publicKey: string;
  signature: string;
}

export function detachedSignature(signer: Signer, file: string, bytes: string): string {
  const sig: DetachedSignature = { algorithm: 'Ed25519', file, sha256: sha256(bytes), keyId: signer.keyId, publicKey: signer.publicKeyPem, signature: signer.sign(bytes) };
  return `${JSON.stringify(sig, null, 2)}\n`;
}

export function parseDetachedSignature(text: string): DetachedSignature | undefined {
  try {
    const s = JSON.parse(text) as DetachedSignature;
    return s?.algorithm === 'Ed25519' && typeof s.signature === 'string' && typeof s.keyId === 'string' ? s : undefined;
  } catch {
    return undefined;
  }
}

// report.html's embedded signature ------------------------------------------------------------

/** Inserted on its own line right after the result's SHA-256 meta element, the first in the head. */
const ANCHOR = /<meta name="privacy-audit-result-sha256" content="[0-9a-f]{64}">/;
const SIG_ELEMENT = /\n<meta name="privacy-audit-signature" content="ed25519 ([0-9a-f]{16}) ([A-Za-z0-9+/=]+)">/;

export function signHtml(html: string, signer: Signer): string {
  const m = ANCHOR.exec(html);
  if (!m) throw new Error('report.html has no result SHA-256 element to anchor its signature');
  const at = m.index + m[0].length;
  return `${html.slice(0, at)}\n<meta name="privacy-audit-signature" content="ed25519 ${signer.keyId} ${signer.sign(html)}">${html.slice(at)}`;
}

/** The page without its signature element, and the signature, if it has one. */
export function splitHtmlSignature(html: string): { unsigned: string; signature?: { keyId: string; value: string } } {
  const m = SIG_ELEMENT.exec(html);
  if (!m) return { unsigned: html };
  return { unsigned: html.slice(0, m.index) + html.slice(m.index + m[0].length), signature: { keyId: m[1]!, value: m[2]! } };
}

// keygen --------------------------------------------------------------------------------------

/** Writes FILE (private key, 0600) and FILE.pub; never overwrites a key. */
export function keygen(file: string): { privateFile: string; publicFile: string; keyId: string } {
  const pubFile = `${file}.pub`;
  for (const f of [file, pubFile]) if (existsSync(f)) throw new InputError('already exists; refusing to overwrite a key', { file: f });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  for (const [f, body, mode] of [
    [file, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600],
    [pubFile, publicKey.export({ type: 'spki', format: 'pem' }).toString(), 0o644],
  ] as const) {
    try {
      writeFileSync(f, body, { mode, flag: 'wx' });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new InputError('already exists; refusing to overwrite a key', { file: f });
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new InputError('its folder does not exist', { file: f });
      throw e;
    }
  }
  return { privateFile: file, publicFile: pubFile, keyId: keyIdOf(publicKey) };
}
