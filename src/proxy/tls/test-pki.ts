// Test helper: a throwaway PKI made at test time with the openssl CLI (a CA, then leaf certificates
// with the SANs a test needs), written to a temporary directory. Never used outside tests.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate and its key, as files and as PEM text. */
export interface CertFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
}

/** A CA that signs leaf certificates in a temporary directory. */
export class TestPki {
  readonly dir: string;
  readonly ca: CertFiles;
  private serial = 1;

  /** Creates the CA (`CN=<name>`, EC P-256). */
  constructor(name = 'Mizzen Test CA') {
    this.dir = mkdtempSync(join(tmpdir(), 'mz-pki-'));
    const key = join(this.dir, 'ca.key');
    const crt = join(this.dir, 'ca.crt');
    openssl([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-out',
      crt,
      '-subj',
      `/CN=${name}`,
      '-days',
      '3650',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    this.ca = files(crt, key);
  }

  /**
   * Issues a leaf certificate signed by this CA. `sans` entries are `DNS:x`, `IP:x` or `URI:x` (a bare
   * name means DNS). `file` names the files (`<file>.crt`, `<file>.key`).
   */
  issue(file: string, cn: string, sans: readonly string[]): CertFiles {
    const key = join(this.dir, `${file}.key`);
    const csr = join(this.dir, `${file}.csr`);
    const crt = join(this.dir, `${file}.crt`);
    const ext = join(this.dir, `${file}.ext`);
    const san = sans.map((s) => (/^(DNS|IP|URI|email):/.test(s) ? s : `DNS:${s}`)).join(',');
    writeFileSync(
      ext,
      `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n` +
        `extendedKeyUsage=serverAuth,clientAuth\n${san ? `subjectAltName=${san}\n` : ''}`,
    );
    openssl([
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-out',
      csr,
      '-subj',
      `/CN=${cn}`,
    ]);
    openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      this.ca.certFile,
      '-CAkey',
      this.ca.keyFile,
      '-set_serial',
      String(this.serial++),
      '-out',
      crt,
      '-days',
      '365',
      '-extfile',
      ext,
    ]);
    return files(crt, key);
  }

  /** A CRL (PEM file) signed by this CA that revokes `certs`. */
  crl(name: string, certs: readonly CertFiles[]): string {
    const db = join(this.dir, `${name}.index`);
    const cnf = join(this.dir, `${name}.cnf`);
    writeFileSync(db, '');
    writeFileSync(join(this.dir, `${name}.crlnumber`), '01\n');
    writeFileSync(
      cnf,
      `[ca]\ndefault_ca = d\n[d]\ndatabase = ${db}\ncrlnumber = ${join(this.dir, `${name}.crlnumber`)}\n` +
        `certificate = ${this.ca.certFile}\nprivate_key = ${this.ca.keyFile}\ndefault_md = sha256\n` +
        `default_crl_days = 30\n`,
    );
    for (const c of certs) openssl(['ca', '-config', cnf, '-revoke', c.certFile]);
    const out = join(this.dir, `${name}.crl`);
    openssl(['ca', '-config', cnf, '-gencrl', '-out', out]);
    return out;
  }

  /** Removes the directory. */
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function files(certFile: string, keyFile: string): CertFiles {
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}
