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

/** A fresh temp directory that `await using` removes. */
export async function tempDir(
  prefix = "ztick-test-",
): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

/** Writes `text` with exactly `mode` (the umask does not apply); returns the path. */
export async function writeFile(
  path: string,
  text: string,
  mode = 0o600,
): Promise<string> {
  await Deno.writeTextFile(path, text, { mode });
  await Deno.chmod(path, mode);
  return path;
}

/** Tells whether a path exists (without following a final symlink). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Tells whether a process whose command line matches `pattern` runs. */
export async function pgrep(pattern: string): Promise<boolean> {
  const { code } = await new Deno.Command("pgrep", {
    args: ["-f", pattern],
    stdout: "null",
  }).output();
  return code === 0;
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

/**
 * Unmounts a test filesystem, trying again for up to 5 s: a process being
 * spawned by a test running beside this one holds copies of every open
 * descriptor for a moment, so `umount` can briefly find it busy.
 */
export async function unmount(dir: string): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const { success, stderr } = await new Deno.Command("umount", {
      args: [dir],
      stderr: "piped",
    }).output();
    if (success) return;
    if (Date.now() > deadline) {
      throw new Error(`umount ${dir}: ${new TextDecoder().decode(stderr)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A logfile's text without the zero-filled tail a running daemon with fsync
 * on keeps past its records.
 */
export async function readRecords(path: string): Promise<string> {
  const bytes = await Deno.readFile(path);
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}
