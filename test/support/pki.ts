import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * A throw-away PKI made with openssl for the loopback API servers (the test server and the
 * benchmark's): a CA, a server certificate for 127.0.0.1, a client certificate it signed and a
 * rogue self-signed one.
 */

/** PEM texts of the test PKI. */
export interface Pki {
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A self-signed client certificate the CA did not sign. */
  rogueCert: string;
  rogueKey: string;
}

const run = promisify(execFile);

const OPENSSL_CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = kdiag-test
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
`;

/** Generate a CA, a server certificate for 127.0.0.1 and client certificates with openssl (EC P-256: fast). */
export async function generatePki(dir: string): Promise<Pki> {
  const cnf = path.join(dir, 'openssl.cnf');
  writeFileSync(cnf, OPENSSL_CONFIG);
  const f = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  await Promise.all(['ca', 'server', 'client', 'rogue'].map((name) => openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f(`${name}.key`))));
  await openssl('req', '-config', cnf, '-x509', '-new', '-key', f('ca.key'), '-subj', '/CN=kdiag-test-ca', '-extensions', 'ca', '-days', '2', '-out', f('ca.crt'));
  const sign = async (name: string, subject: string, extensions: string, serial: string) => {
    await openssl('req', '-config', cnf, '-new', '-key', f(`${name}.key`), '-subj', subject, '-out', f(`${name}.csr`));
    await openssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-set_serial', serial, '-days', '2', '-extfile', cnf, '-extensions', extensions, '-out', f(`${name}.crt`));
  };
  await Promise.all([
    sign('server', '/CN=kdiag-test-apiserver', 'server', '0x1001'),
    sign('client', '/O=system:masters/CN=kdiag-e2e-admin', 'client', '0x1002'),
    openssl('req', '-config', cnf, '-x509', '-new', '-key', f('rogue.key'), '-subj', '/CN=rogue', '-extensions', 'client', '-days', '2', '-out', f('rogue.crt')),
  ]);
  const read = (name: string) => readFileSync(f(name), 'utf8');
  return {
    caCert: read('ca.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
    rogueCert: read('rogue.crt'),
    rogueKey: read('rogue.key'),
  };
}
