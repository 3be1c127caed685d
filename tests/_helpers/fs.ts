/** File-system helpers shared by tests. */

/** Runs `fn` with a fresh temp directory, removed afterwards. */
export async function withTempDir<T>(
  prefix: string,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Why a small tmpfs cannot be mounted here (to fill a disk for real), or
 * `undefined` when it can.
 */
export function probeMount(): string | undefined {
  let dir: string | undefined;
  try {
    dir = Deno.makeTempDirSync({ prefix: "ztick_mount_probe_" });
    const mounted = new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir],
      stdout: "null",
      stderr: "piped",
    }).outputSync();
    if (!mounted.success) {
      return new TextDecoder().decode(mounted.stderr).trim() ||
        `exit ${mounted.code}`;
    }
    new Deno.Command("umount", { args: [dir] }).outputSync();
    return undefined;
  } catch (error) {
    return String(error);
  } finally {
    if (dir !== undefined) Deno.removeSync(dir);
  }
}
