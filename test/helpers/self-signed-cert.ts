/** A throw-away self-signed certificate for 127.0.0.1, made with the system's openssl, for TLS tests. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCertificate {
  cert: Buffer;
  key: Buffer;
  certFile: string;
  keyFile: string;
}

/** Write `tls-cert.pem` and `tls-key.pem` into `dir` (valid one day) and return them. */
export function selfSignedCert(dir: string): TestCertificate {
  const certFile = join(dir, 'tls-cert.pem');
  const keyFile = join(dir, 'tls-key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'ignore' });
  return { cert: readFileSync(certFile), key: readFileSync(keyFile), certFile, keyFile };
}
