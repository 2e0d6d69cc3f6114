/**
 * The PEM files behind the TLS flags, checked when read so a mistake is one clear line: `--ca` must hold
 * certificates (a file without any was silently ignored), and `--tls-cert`/`--tls-key` must be a certificate
 * and its matching private key (swapped files used to surface as a raw OpenSSL string).
 */
import { readFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { CliError, EXIT } from './exit-codes.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;
const PEM_PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/** How many PEM certificate blocks `text` holds (String.match with /g does not keep state between calls). */
function certificateCount(text: string): number {
  return (text.match(PEM_CERTIFICATE) ?? []).length;
}

function readFlagFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CliError(`cannot read ${flag} ${path}: ${(err as Error).message}`, EXIT.badInput, { cause: err });
  }
}

/** Every PEM certificate in `text`, parsed. @throws CliError (bad input) when there is none or one is broken */
function certificatesIn(flag: string, path: string, text: string): X509Certificate[] {
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    const what = PEM_PRIVATE_KEY.test(text) ? 'a private key' : 'no PEM certificate (-----BEGIN CERTIFICATE-----)';
    throw new CliError(`${flag} ${path} holds ${what}, not a certificate`, EXIT.badInput);
  }
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new CliError(`${flag} ${path}: certificate ${i + 1} is not valid PEM: ${(err as Error).message}`, EXIT.badInput, { cause: err });
    }
  });
}

/**
 * The CA bundle for `--ca`: one or more PEM certificates.
 * @throws CliError (bad input) when the file cannot be read or holds no valid certificate
 */
export function readCaFile(path: string): Buffer {
  const pem = readFlagFile('--ca', path);
  certificatesIn('--ca', path, pem.toString('latin1'));
  return pem;
}

/**
 * The server's certificate and key for `--tls-cert`/`--tls-key`, checked to be what each flag says and to
 * belong together.
 * @throws CliError (usage) when only one is given; (bad input) when a file is wrong, swapped or mismatched
 */
export function readServerTls(certPath: string | undefined, keyPath: string | undefined): { cert: Buffer; key: Buffer } | undefined {
  if (!certPath && !keyPath) return undefined;
  if (!certPath || !keyPath) throw new CliError('--tls-cert and --tls-key go together', EXIT.usage);
  const cert = readFlagFile('--tls-cert', certPath);
  const key = readFlagFile('--tls-key', keyPath);
  const certText = cert.toString('latin1');
  const keyText = key.toString('latin1');
  if (PEM_PRIVATE_KEY.test(certText) && certificateCount(certText) === 0 && certificateCount(keyText) > 0) {
    throw new CliError(`--tls-cert ${certPath} holds a private key and --tls-key ${keyPath} a certificate: swap them`, EXIT.badInput);
  }
  const [leaf] = certificatesIn('--tls-cert', certPath, certText);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    const what = certificateCount(keyText) > 0 ? 'a certificate' : 'no PEM private key';
    throw new CliError(`--tls-key ${keyPath} holds ${what}, not a private key`, EXIT.badInput, { cause: err });
  }
  if (!leaf!.checkPrivateKey(privateKey)) {
    throw new CliError(`--tls-key ${keyPath} is not the private key of the certificate in --tls-cert ${certPath}`, EXIT.badInput);
  }
  return { cert, key };
}
