import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureCommand } from '@palisade/config';

/** A certificate and its private key, as PEM files. */
export interface CertificateFiles {
  certFile: string;
  keyFile: string;
}

export interface TlsCertificates {
  /** The CA that signed every certificate below. */
  caFile: string;
  /** For servers on this machine: CN=localhost, SAN DNS:localhost and IP:127.0.0.1. */
  server: CertificateFiles;
  /** One client certificate per name, subject `CN=<name>,O=palisade` (`O=palisade,CN=<name>` in RFC 2253 order). */
  clients: Record<string, CertificateFiles>;
}

/**
 * A private CA (P-256) and certificates signed by it, written to `dir` (keys 0600), valid for
 * `days`: for tests, and for deployments without a certificate manager. Uses the openssl command
 * (installed with apt-get when missing).
 */
export function generateTlsCertificates(
  dir: string,
  options: { clients?: readonly string[]; days?: number; caName?: string } = {},
): TlsCertificates {
  const openssl = ensureCommand({
    command: 'openssl',
    debianPackage: 'openssl',
    purpose: 'certificates for TLS',
  });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const days = String(options.days ?? 2);
  const file = (name: string) => path.join(dir, name);
  const run = (args: string[]) => {
    const result = spawnSync(openssl, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (result.status !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr.trim()}`);
  };
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run([
    'req',
    '-x509',
    ...newKey,
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
    '-days',
    days,
    '-subj',
    `/O=palisade/CN=${options.caName ?? 'palisade-ca'}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  const issue = (name: string, subject: string, extensions: string): CertificateFiles => {
    const keyFile = file(`${name}.key`);
    const certFile = file(`${name}.crt`);
    fs.writeFileSync(file(`${name}.ext`), extensions);
    run(['req', ...newKey, '-keyout', keyFile, '-out', file(`${name}.csr`), '-subj', subject]);
    run([
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-out',
      certFile,
      '-days',
      days,
      '-extfile',
      file(`${name}.ext`),
    ]);
    fs.rmSync(file(`${name}.csr`));
    fs.rmSync(file(`${name}.ext`));
    fs.chmodSync(keyFile, 0o600);
    return { certFile, keyFile };
  };
  const server = issue(
    'server',
    '/O=palisade/CN=localhost',
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n',
  );
  const clients = Object.fromEntries(
    (options.clients ?? []).map((name) => {
      if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`client name "${name}" must be kebab-case`);
      return [
        name,
        issue(
          `client-${name}`,
          `/O=palisade/CN=${name}`,
          'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n',
        ),
      ];
    }),
  );
  fs.chmodSync(file('ca.key'), 0o600);
  return { caFile: file('ca.crt'), server, clients };
}

/** The subject nats-server's `verify_and_map` matches a client certificate of generateTlsCertificates by. */
export function clientCertificateSubject(name: string): string {
  return `CN=${name},O=palisade`;
}
