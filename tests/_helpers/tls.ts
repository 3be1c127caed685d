/** A throw-away TLS certificate for tests, made with `openssl`. */

/** A self-signed leaf certificate for 127.0.0.1 and localhost. */
export interface TestCert {
  readonly certPath: string;
  readonly keyPath: string;
  readonly certPem: string;
}

/**
 * Generates a P-256 certificate with `CA:FALSE` (Deno clients reject
 * openssl's default `CA:TRUE` self-signed leaf) into `dir`.
 */
export async function makeCert(dir: string): Promise<TestCert> {
  const certPath = `${dir}/cert.pem`;
  const keyPath = `${dir}/key.pem`;
  const { code, stderr } = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`openssl failed: ${new TextDecoder().decode(stderr)}`);
  }
  return { certPath, keyPath, certPem: await Deno.readTextFile(certPath) };
}
