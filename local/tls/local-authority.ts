import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A certificate authority made for one local run, and a server certificate it signed for
 * 127.0.0.1 and localhost: the local databases serve TLS with it, and drills verify them against
 * it as deployed drills verify RDS against the RDS authorities.
 */
export interface LocalAuthority {
  /** The authority's certificate (PEM), to trust. */
  readonly caPem: string;
  /** The server's certificate and private key (PEM files). */
  readonly certFile: string;
  readonly keyFile: string;
  /** Deletes the files. */
  remove(): void;
}

const openssl = (args: string[], cwd: string) =>
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });

/** Creates an authority and a server certificate for `names` (default 127.0.0.1, localhost). */
export function createLocalAuthority(
  options: {
    readonly commonName?: string;
    readonly ips?: readonly string[];
    readonly dnsNames?: readonly string[];
  } = {},
): LocalAuthority {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-ca-'));
  const ips = options.ips ?? ['127.0.0.1'];
  const curve = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    openssl(
      [
        'req',
        '-x509',
        ...curve,
        '-keyout',
        'ca.key',
        '-out',
        'ca.pem',
        '-days',
        '2',
        '-subj',
        `/CN=${options.commonName ?? 'Lifeboat local authority'}`,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      dir,
    );
    openssl(
      ['req', ...curve, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'],
      dir,
    );
    writeFileSync(
      join(dir, 'server.ext'),
      [
        `subjectAltName=${[...(options.dnsNames ?? ['localhost']).map((n) => `DNS:${n}`), ...ips.map((ip) => `IP:${ip}`)].join(',')}`,
        'basicConstraints=CA:FALSE',
        'keyUsage=digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
      ].join('\n'),
    );
    openssl(
      [
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        'server.pem',
        '-days',
        '2',
        '-extfile',
        'server.ext',
      ],
      dir,
    );
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(
      `cannot create the local certificate authority with openssl: ${stderr || error}`,
    );
  }
  return {
    caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
