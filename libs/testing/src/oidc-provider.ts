import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { freePort, stopProcess } from '@palisade/embedded';
import { exportJWK, generateKeyPair, JWTPayload, SignJWT } from 'jose';
import { waitFor } from './wait-for';

export interface OidcTestClient {
  client_id: string;
  client_secret?: string;
  redirect_uris: string[];
}

/** How the proxy in front of the provider changes the id_token of token responses. */
export type IdTokenTampering =
  | { kind: 'none' }
  /** Changes a claim without re-signing: the signature no longer matches. */
  | { kind: 'break-signature' }
  /** Re-signs modified claims with the provider's real key (e.g. another audience or nonce). */
  | { kind: 'resign'; claims: (claims: JWTPayload) => JWTPayload }
  /** Sends another id_token instead (e.g. one the provider issued for an earlier login). */
  | { kind: 'replace'; idToken: string };

export interface OidcProviderHandle {
  /** The issuer URL (the proxy in front of the provider). */
  issuer: string;
  pid: number;
  tamper(tampering: IdTokenTampering): void;
  /** The last id_token the provider issued (before any tampering). */
  lastIdToken(): string | undefined;
  stop(): Promise<void>;
}

/**
 * Starts a real OpenID Provider (oidc-provider) as a child process on 127.0.0.1, behind a small
 * proxy (the issuer URL) that can tamper with id_tokens in token responses, for attack tests.
 * `stop()` ends the child by PID and closes the proxy.
 */
export async function startOidcProvider(clients: OidcTestClient[]): Promise<OidcProviderHandle> {
  const [providerPort, proxyPort] = [await freePort(), await freePort()];
  const issuer = `http://127.0.0.1:${proxyPort}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomBytes(6).toString('hex');
  const signingJwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  const child = spawn(process.execPath, [path.join(__dirname, 'oidc-provider.child.mjs')], {
    env: {
      PATH: process.env.PATH,
      OIDC_ISSUER: issuer,
      OIDC_PORT: String(providerPort),
      OIDC_JWKS: JSON.stringify({ keys: [signingJwk] }),
      OIDC_CLIENTS: JSON.stringify(
        clients.map((c) => ({
          ...c,
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: c.client_secret ? 'client_secret_basic' : 'none',
        })),
      ),
      OIDC_COOKIE_KEY: randomBytes(32).toString('hex'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));

  let tampering: IdTokenTampering = { kind: 'none' };
  let lastIdToken: string | undefined;
  const tamperIdToken = async (idToken: string): Promise<string> => {
    const [header, payload, signature] = idToken.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as JWTPayload;
    if (tampering.kind === 'break-signature') {
      const changed = Buffer.from(JSON.stringify({ ...claims, sub: 'mallory' })).toString('base64url');
      return `${header}.${changed}.${signature}`;
    }
    if (tampering.kind === 'replace') return tampering.idToken;
    if (tampering.kind === 'resign') {
      return new SignJWT(tampering.claims(claims)).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
    }
    return idToken;
  };

  const proxy = http.createServer((req, res) => {
    const upstream = http.request(
      { host: '127.0.0.1', port: providerPort, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        const isToken = req.url?.startsWith('/token');
        if (!isToken) {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          void (async () => {
            const body = JSON.parse(Buffer.concat(chunks).toString()) as { id_token?: string };
            if (body.id_token) {
              lastIdToken = body.id_token;
              body.id_token = await tamperIdToken(body.id_token);
            }
            const text = JSON.stringify(body);
            const headers = { ...answer.headers, 'content-length': String(Buffer.byteLength(text)) };
            res.writeHead(answer.statusCode ?? 502, headers);
            res.end(text);
          })();
        });
      },
    );
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(proxyPort, '127.0.0.1', resolve));

  const stop = async () => {
    await stopProcess(child, 'SIGTERM', 5_000);
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`oidc-provider exited: ${output.slice(-2000)}`);
        const response = await fetch(`${issuer}/.well-known/openid-configuration`);
        return response.ok;
      },
      { description: 'oidc-provider answering discovery', timeoutMs: 20_000, intervalMs: 50 },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    issuer,
    pid: child.pid!,
    tamper: (next) => (tampering = next),
    lastIdToken: () => lastIdToken,
    stop,
  };
}
