/**
 * GitHub hands out PKCS#1 keys (`BEGIN RSA PRIVATE KEY`), but WebCrypto, which
 * the Octokit JWT signer uses on Workers, imports only PKCS#8. Wrapping the
 * PKCS#1 bytes in a PKCS#8 envelope is a lossless change of container.
 */
export class PrivateKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PrivateKeyError";
  }
}

const PKCS1 = /-----BEGIN RSA PRIVATE KEY-----([\s\S]*?)-----END RSA PRIVATE KEY-----/;
const PKCS8 = /-----BEGIN PRIVATE KEY-----([\s\S]*?)-----END PRIVATE KEY-----/;

/** The last key converted: every request of an isolate passes the same one (a plain value, not a promise). */
let lastConverted: { raw: string; pem: string } | undefined;

export function normalizePrivateKey(raw: string): string {
  if (lastConverted?.raw === raw) return lastConverted.pem;
  const converted = convert(raw);
  lastConverted = { raw, pem: converted };
  return converted;
}

function convert(raw: string): string {
  // Dashboards and `.dev.vars` often hold the key on one line with literal `\n`.
  const text = raw.replace(/\\n/g, "\n").replace(/\r/g, "").trim();
  const pkcs8 = PKCS8.exec(text);
  if (pkcs8) return pem("PRIVATE KEY", base64ToBytes(pkcs8[1]!));
  const pkcs1 = PKCS1.exec(text);
  if (pkcs1) return pem("PRIVATE KEY", wrapPkcs1(base64ToBytes(pkcs1[1]!)));
  throw new PrivateKeyError(
    "GITHUB_APP_PRIVATE_KEY is not a PEM private key (expected BEGIN RSA PRIVATE KEY or BEGIN PRIVATE KEY)",
  );
}

// AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }
const RSA_ALGORITHM = [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];

/** PrivateKeyInfo ::= SEQUENCE { version 0, algorithm, privateKey OCTET STRING } */
function wrapPkcs1(pkcs1: Uint8Array): Uint8Array {
  const version = [0x02, 0x01, 0x00];
  const octetString = [0x04, ...derLength(pkcs1.length)];
  const bodyLength = version.length + RSA_ALGORITHM.length + octetString.length + pkcs1.length;
  const header = [0x30, ...derLength(bodyLength), ...version, ...RSA_ALGORITHM, ...octetString];
  const out = new Uint8Array(header.length + pkcs1.length);
  out.set(header, 0);
  out.set(pkcs1, header.length);
  return out;
}

function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let n = length; n > 0; n >>= 8) bytes.unshift(n & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

function base64ToBytes(body: string): Uint8Array {
  const clean = body.replace(/[^A-Za-z0-9+/=]/g, "");
  let binary: string;
  try {
    binary = atob(clean);
  } catch {
    throw new PrivateKeyError("GITHUB_APP_PRIVATE_KEY has a PEM header but its body is not valid base64");
  }
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function pem(label: string, der: Uint8Array): string {
  let binary = "";
  for (const byte of der) binary += String.fromCharCode(byte);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
