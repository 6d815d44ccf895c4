/**
 * Who may post alerts to the watcher's receiver. By default a bearer token: the one in a file (a
 * mounted Secret; Alertmanager sends the same one with `http_config.authorization`), compared in
 * constant time. Or mutual TLS: a client certificate signed by the CA the operator names
 * (Alertmanager's `http_config.tls_config`). Running without either is an explicit choice
 * (`mode: 'none'`), never a default: a forged alert starts a remediation that acts with
 * KubeMedic's rights.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AlertReceiverAuth } from '../domain/config/watcher.ts';

/** Why a request was not let in: the 401's reason and the metric's label. */
export type AuthRefusal =
  'MissingToken' | 'NotBearer' | 'WrongToken' | 'NoClientCertificate' | 'UntrustedClientCertificate';

export type AuthVerdict = { ok: true } | { ok: false; reason: AuthRefusal; message: string };

/** Decides whether one request may go on; nothing of its body has been read yet. */
export type Authenticate = (request: IncomingMessage) => Promise<AuthVerdict>;

/** Shorter than this is no secret: a token is refused at start rather than guessed later. */
export const minTokenLength = 16;

/**
 * The check for `auth`, ready to use: a token file or certificate that cannot be read stops the
 * watcher at start, with the way out named. `onReadError` hears a token file that could be read
 * at start but no longer can (the last token read stays).
 */
export async function authenticator(
  auth: AlertReceiverAuth,
  onReadError: (error: unknown) => void,
): Promise<Authenticate> {
  if (auth.mode === 'none') return async () => ({ ok: true });
  if (auth.mode === 'mtls') return async (request) => checkClientCertificate(request.socket as TLSSocket);
  const check = await BearerTokenCheck.load(auth.tokenFile, onReadError);
  return (request) => check.check(request.headers.authorization);
}

/**
 * Checks the Authorization header of each request against the token file. The file is read again
 * for every request, so a rotated Secret takes effect without a restart (Alertmanager reads its
 * credentials_file per request too); when it cannot be read any more, the last token read stays.
 */
class BearerTokenCheck {
  private constructor(
    private readonly file: string,
    private token: string,
    private readonly onReadError: (error: unknown) => void,
  ) {}

  static async load(file: string, onReadError: (error: unknown) => void): Promise<BearerTokenCheck> {
    const token = await readToken(file).catch((error: unknown) => {
      throw new Error(
        `the alert receiver's token file ${file} cannot be read (${(error as Error).message}): ` +
          'mount the Secret there, or set KUBEMEDIC_ALERT_RECEIVER_AUTH=none to run without authentication',
        { cause: error },
      );
    });
    return new BearerTokenCheck(file, token, onReadError);
  }

  async check(authorization: string | undefined): Promise<AuthVerdict> {
    if (authorization === undefined || authorization.trim() === '') {
      return { ok: false, reason: 'MissingToken', message: 'no Authorization header: send a bearer token' };
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match === null) {
      return {
        ok: false,
        reason: 'NotBearer',
        message: 'the Authorization header is not "Bearer <token>"',
      };
    }
    this.token = await readToken(this.file).catch((error: unknown) => {
      this.onReadError(error);
      return this.token;
    });
    if (!sameSecret(match[1]!, this.token)) {
      return { ok: false, reason: 'WrongToken', message: 'the bearer token is not the receiver’s' };
    }
    return { ok: true };
  }
}

async function readToken(file: string): Promise<string> {
  // Alertmanager trims its credentials_file the same way, so a trailing newline is no mismatch.
  const token = (await readFile(file, 'utf8')).trim();
  if (token.length < minTokenLength) {
    throw new Error(`the token is ${token.length} characters; at least ${minTokenLength} are needed`);
  }
  return token;
}

/**
 * Equal in time that depends on neither value: both are hashed first, so timingSafeEqual sees
 * equal lengths and the comparison says nothing about the token's length or prefix.
 */
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * The TLS handshake asked for a client certificate but let a connection without a trusted one
 * through, so that the refusal is an HTTP answer with its reason (and counted) rather than a
 * handshake error the client may not report.
 */
function checkClientCertificate(socket: TLSSocket): AuthVerdict {
  if (socket.authorized) return { ok: true };
  const presented = Object.keys(socket.getPeerCertificate() ?? {}).length > 0;
  if (!presented) {
    return { ok: false, reason: 'NoClientCertificate', message: 'present a client certificate' };
  }
  return {
    ok: false,
    reason: 'UntrustedClientCertificate',
    message: `the client certificate is not trusted (${String(socket.authorizationError)})`,
  };
}

/** The receiver's own certificate and the CA its clients' certificates must chain to, read at start. */
export async function serverTls(auth: Extract<AlertReceiverAuth, { mode: 'mtls' }>) {
  const read = (file: string, what: string) =>
    readFile(file).catch((error: unknown) => {
      throw new Error(`the alert receiver's ${what} ${file} cannot be read (${(error as Error).message})`, {
        cause: error,
      });
    });
  const [cert, key, ca] = await Promise.all([
    read(auth.certFile, 'certificate'),
    read(auth.keyFile, 'key'),
    read(auth.clientCaFile, 'client CA'),
  ]);
  return { cert, key, ca, requestCert: true, rejectUnauthorized: false };
}
