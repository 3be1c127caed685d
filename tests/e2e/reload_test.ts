/**
 * SIGHUP re-reads the auth file and the TLS certificate: connections opened
 * afterwards use the new ones, open ones keep theirs, and a broken file
 * keeps the old ones in force (spec: configuration.md §1, Signals).
 */
import assert from "node:assert/strict";
import { withTempDir, writeFile } from "../_helpers/fs.ts";
import { DaemonProcess } from "../_helpers/subprocess.ts";
import { connectTls, makeCert } from "./_security.ts";

function authToml(secret: string): string {
  return `[token.admin]\nsecret = "${secret}"\nnamespace = "*"\n`;
}

Deno.test("SIGHUP reloads the auth file and certificate for new connections; a broken file keeps the old ones", async () => {
  await withTempDir("ztick-reload-", async (dir) => {
    await Deno.mkdir(`${dir}/old`);
    await Deno.mkdir(`${dir}/new`);
    const oldCert = await makeCert(`${dir}/old`);
    const authFile = await writeFile(`${dir}/auth.toml`, authToml("s_old"));
    const certPath = `${dir}/cert.pem`;
    const keyPath = `${dir}/key.pem`;
    await Deno.copyFile(oldCert.certPath, certPath);
    await Deno.copyFile(oldCert.keyPath, keyPath);
    const config = await writeFile(
      `${dir}/config.toml`,
      `[controller]\nlisten = "127.0.0.1:0"\nauth_file = "${authFile}"\n` +
        `tls_cert = "${certPath}"\ntls_key = "${keyPath}"\n` +
        `[database]\npersistence = "memory"\n`,
    );
    await using daemon = await DaemonProcess.start(config);
    using before = await connectTls(daemon.port, oldCert);
    assert.equal(await before.request("AUTH s_old"), "OK");

    // New secret and certificate, then SIGHUP.
    const newCert = await makeCert(`${dir}/new`);
    await writeFile(authFile, authToml("s_new"));
    await Deno.copyFile(newCert.certPath, certPath);
    await Deno.copyFile(newCert.keyPath, keyPath);
    Deno.kill(daemon.pid, "SIGHUP");
    await daemon.waitForLog(
      /\[INFO\] reloaded: auth file, TLS certificate\n/,
    );
    // The open connection keeps its identity; new ones get the new files.
    assert.equal(await before.request("r1 GET x"), "r1 ERROR");
    using fresh = await connectTls(daemon.port, newCert);
    assert.equal(await fresh.request("AUTH s_new"), "OK");
    using stale = await connectTls(daemon.port, newCert);
    assert.equal(await stale.request("AUTH s_old"), "ERROR");
    const untrusted = await Deno.connectTls({
      hostname: "127.0.0.1",
      port: daemon.port,
      caCerts: [oldCert.certPem],
    });
    await assert.rejects(untrusted.handshake(), /certificate/i);
    untrusted.close();

    // A broken auth file: logged, and the files of the last reload stay.
    await writeFile(authFile, "[token.admin\nsecret = ");
    Deno.kill(daemon.pid, "SIGHUP");
    await daemon.waitForLog(/\[ERROR\] reload failed: auth file: invalid TOML/);
    using after = await connectTls(daemon.port, newCert);
    assert.equal(await after.request("AUTH s_new"), "OK");
    assert.equal(await before.request("r2 GET x"), "r2 ERROR");
    assert.equal(await daemon.stop("SIGTERM"), 0);
  });
});

Deno.test("SIGHUP without auth file or TLS says so and changes nothing", async () => {
  await withTempDir("ztick-reload-", async (dir) => {
    const config = await writeFile(
      `${dir}/config.toml`,
      `[controller]\nlisten = "127.0.0.1:0"\n[database]\npersistence = "memory"\n`,
    );
    await using daemon = await DaemonProcess.start(config);
    Deno.kill(daemon.pid, "SIGHUP");
    await daemon.waitForLog(/\[INFO\] reload: nothing to reload\n/);
    assert.equal(await daemon.stop("SIGTERM"), 0);
  });
});
