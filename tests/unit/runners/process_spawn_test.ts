/**
 * What the process runners keep on top of tests/unit/runners/process_test.ts
 * since they spawn through posix_spawnp (spec: runners.md §2): the daemon's
 * environment and PATH, spawn errors apart from exit 127, signals, stderr
 * held by grandchildren, the group kill, only fds 0–2, and no leaks.
 */
import assert from "node:assert/strict";
import { runningProcesses, runProcess } from "../../../src/runners/_process.ts";
import { openLibc } from "../../../src/runners/_spawn_libc.ts";
import { execution } from "./_process.ts";
import { waitFor } from "../../_helpers/client.ts";
import { pgrep } from "../../_helpers/fs.ts";

/** Runs `script` with /bin/sh -c; returns the outcome and the stderr tail. */
function sh(script: string, signal?: AbortSignal) {
  return runProcess("/bin/sh", ["-c", script], execution(signal));
}

const decoder = new TextDecoder();

function marker(): string {
  return `sleep 100.${Math.floor(Math.random() * 1e9)}`;
}

/** The C library the runners opened (the test task grants FFI to it). */
function libcPath(): string {
  const libc = openLibc();
  if (libc instanceof Error) throw libc;
  return libc.path;
}

Deno.test("runProcess() passes the daemon's environment, read after it changed", async () => {
  Deno.env.set("ZTICK_SPAWN_TEST", "a b=c");
  Deno.env.set("ZTICK_JOB_ID", "stale"); // the daemon's own value is replaced
  try {
    const { outcome, stderrTail } = await sh(
      'printf "%s|%s|" "$ZTICK_SPAWN_TEST" "$HOME" >&2; env | grep -c "^ZTICK_JOB_ID=" >&2; exit 1',
    );
    assert.deepEqual(outcome, {
      ok: false,
      reason: "exited with code 1",
      detail: "exit:1",
    });
    assert.equal(stderrTail, `a b=c|${Deno.env.get("HOME")}|1\n`);
  } finally {
    Deno.env.delete("ZTICK_SPAWN_TEST");
    Deno.env.delete("ZTICK_JOB_ID");
  }
  const { stderrTail } = await sh(
    'echo "${ZTICK_SPAWN_TEST-unset}" >&2; false',
  );
  assert.equal(stderrTail, "unset\n");
});

Deno.test("runProcess() looks programs up in the daemon's PATH", async () => {
  const dir = await Deno.makeTempDir();
  const path = Deno.env.get("PATH") ?? "";
  try {
    await Deno.writeTextFile(`${dir}/ztick-probe`, "#!/bin/sh\nexit 7\n", {
      mode: 0o755,
    });
    // no `#!`: run through /bin/sh like Deno.Command and execvp do
    await Deno.writeTextFile(`${dir}/ztick-plain`, "echo $0 >&2; exit 8\n", {
      mode: 0o755,
    });
    Deno.env.set("PATH", `${dir}:${path}`);
    const probe = await runProcess("ztick-probe", [], execution());
    assert.deepEqual(probe.outcome, {
      ok: false,
      reason: "exited with code 7",
      detail: "exit:7",
    });
    const plain = await runProcess("ztick-plain", [], execution());
    assert.deepEqual(plain.outcome, {
      ok: false,
      reason: "exited with code 8",
      detail: "exit:8",
    });
    assert.equal(plain.stderrTail, `${dir}/ztick-plain\n`);
  } finally {
    Deno.env.set("PATH", path);
    await Deno.remove(dir, { recursive: true });
  }
  const gone = await runProcess("ztick-probe", [], execution());
  assert.match(!gone.outcome.ok ? gone.outcome.reason : "", /^cannot run/);
});

Deno.test("runProcess() tells a missing or non-executable program from exit 127", async () => {
  const missing = await runProcess("ztick-no-such-program", [], execution());
  assert.deepEqual(missing.outcome, {
    ok: false,
    reason: `cannot run "ztick-no-such-program": Failed to spawn ` +
      `'ztick-no-such-program': No such file or directory (os error 2)`,
    detail: "spawn-error",
  });
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/x`, "#!/bin/sh\n", { mode: 0o644 });
    const { outcome } = await runProcess(`${dir}/x`, [], execution());
    assert.match(
      !outcome.ok ? outcome.reason : "",
      /^cannot run ".*": Failed to spawn '.*': Permission denied \(os error 13\)$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const exit127 = await sh("exit 127");
  assert.deepEqual(exit127.outcome, {
    ok: false,
    reason: "exited with code 127",
    detail: "exit:127",
  });
});

Deno.test("runProcess() reports death by signal, real-time ones too", async () => {
  assert.deepEqual((await sh("kill -KILL $$")).outcome, {
    ok: false,
    reason: "killed by SIGKILL",
    detail: "signal:SIGKILL",
  });
  assert.deepEqual((await sh("kill -SEGV $$")).outcome, {
    ok: false,
    reason: "killed by SIGSEGV",
    detail: "signal:SIGSEGV",
  });
  assert.deepEqual((await sh("kill -40 $$")).outcome, {
    ok: false,
    reason: "killed by SIGRTMIN+6",
    detail: "signal:SIGRTMIN+6",
  });
});

Deno.test("runProcess() keeps what was written before a grandchild holding stderr", async () => {
  const sleep = marker();
  const started = Date.now();
  const { outcome, stderrTail } = await sh(
    `echo before >&2; ${sleep} & exit 5`,
  );
  assert.deepEqual(outcome, {
    ok: false,
    reason: "exited with code 5",
    detail: "exit:5",
  });
  assert.equal(stderrTail, "before\n");
  assert.ok(Date.now() - started < 1000);
  await new Deno.Command("pkill", { args: ["-f", sleep] }).output();
});

Deno.test("runProcess() SIGKILLs the group once the leader exits on abort", async () => {
  const sleep = marker();
  const controller = new AbortController();
  const started = Date.now();
  const running = sh(
    `(trap '' TERM; ${sleep}) & trap 'exit 0' TERM; wait; wait`,
    controller.signal,
  );
  await waitFor(async () => (await pgrep(sleep)) ? true : undefined);
  controller.abort(new Error("timed out"));
  const { outcome } = await running;
  assert.deepEqual(outcome, {
    ok: false,
    reason: "Error: timed out",
    detail: "exit:0",
  });
  await waitFor(async () => (await pgrep(sleep)) ? undefined : true);
  assert.ok(Date.now() - started < 4000, "no need to wait for the grace");
});

Deno.test("runProcess() does not spawn when aborted before the start", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const controller = new AbortController();
    controller.abort(new Error("shutting down"));
    const result = await sh(`touch ${dir}/ran`, controller.signal);
    assert.deepEqual(result, {
      outcome: { ok: false, reason: "Error: shutting down", detail: "error" },
      stderrTail: "",
    });
    await assert.rejects(Deno.stat(`${dir}/ran`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runProcess() starts a session leader with only fds 0-2, SIGPIPE default", async () => {
  // An fd without close-on-exec, as a daemon may inherit one.
  const libc = Deno.dlopen(libcPath(), {
    open: { parameters: ["buffer", "i32"], result: "i32" },
    close: { parameters: ["i32"], result: "i32" },
  });
  const fd = libc.symbols.open(new TextEncoder().encode("/dev/null\0"), 0);
  try {
    const { stderrTail } = await sh(
      "exec >&2; ls -l /proc/$$/fd; grep NSsid /proc/$$/status; echo pid=$$; false",
    );
    const fds = [...stderrTail.matchAll(/ (\d+) -> (.*)/g)].map(([, n, to]) =>
      `${n}=${to?.replace(/\[\d+\]/, "")}`
    );
    assert.deepEqual(fds, ["0=/dev/null", "1=pipe:", "2=pipe:"], stderrTail);
    const pid = stderrTail.match(/pid=(\d+)/)?.[1];
    assert.match(stderrTail, new RegExp(`NSsid:\\s+${pid}\n`));
    // no shell: dash blocks signals now and then, and reads would see that
    const { outcome, stderrTail: status } = await runProcess("/usr/bin/sed", [
      "-n",
      "/^Sig\\(Blk\\|Ign\\)/w /dev/stderr",
      "/proc/self/status",
    ], execution());
    assert.deepEqual(outcome, { ok: true, detail: "exit:0" });
    assert.match(status, /SigBlk:\s+0000000000000000\n/);
    const ignored = BigInt(`0x${status.match(/SigIgn:\s+(\w+)/)?.[1]}`);
    assert.equal(ignored & (1n << 12n), 0n, "SIGPIPE is not ignored");
  } finally {
    libc.symbols.close(fd);
    libc.close();
  }
});

Deno.test("runProcess() sends stdout to /dev/null", async () => {
  const { stderrTail } = await sh(
    'fd1=$(readlink /proc/$$/fd/1); echo "$fd1" >&2; false',
  );
  assert.equal(stderrTail, "/dev/null\n");
});

Deno.test("runProcess() does not block on megabytes of stderr", async () => {
  const { outcome, stderrTail } = await sh(
    "head -c 3000000 /dev/zero | tr '\\0' b >&2; echo end >&2; exit 1",
  );
  assert.deepEqual(outcome, {
    ok: false,
    reason: "exited with code 1",
    detail: "exit:1",
  });
  assert.equal(stderrTail, `${"b".repeat(4092)}end\n`);
});

Deno.test("runProcess() refuses a NUL byte in an argument", async () => {
  const { outcome } = await runProcess("/bin/echo", ["a\0b"], execution());
  assert.match(!outcome.ok ? outcome.reason : "", /nul byte/);
});

Deno.test("runProcess() leaks no fds and leaves no zombie over 200 runs", async () => {
  const outcomes = await Promise.all(
    Array.from(
      { length: 200 },
      (_, i) =>
        i % 10 === 0
          ? runProcess("/no/such", [], execution())
          : sh(`echo "${i} $$ $(readlink /proc/$$/fd/2)" >&2; exit ${i % 3}`),
    ),
  );
  const pids: string[] = [];
  const pipes: string[] = [];
  for (const [i, { outcome, stderrTail }] of outcomes.entries()) {
    if (i % 10 === 0) {
      assert.equal(outcome.ok, false);
      continue;
    }
    assert.deepEqual(
      outcome,
      i % 3 === 0 ? { ok: true, detail: "exit:0" } : {
        ok: false,
        reason: `exited with code ${i % 3}`,
        detail: `exit:${i % 3}`,
      },
    );
    const [index, pid, pipe] = stderrTail.trim().split(" ");
    assert.equal(index, String(i));
    pids.push(pid!);
    pipes.push(pipe!);
  }
  assert.equal(runningProcesses(), 0);
  // Precise, so other test files running in this process do not matter:
  const fds = describeFds(openFds());
  assert.deepEqual(fds.filter((fd) => pipes.includes(fd.link)), []);
  // a pidfd kept after the reap reads `Pid: -1`
  assert.deepEqual(fds.filter((fd) => fd.pidfdOf === "-1"), []);
  assert.deepEqual(await alive(pids), [], "no child left, zombie or not");
  // Not the whole count: `deno task test --parallel` runs other files in
  // this process meanwhile.
});

Deno.test("runProcess() needs only --allow-ffi for libc, and fails cleanly without it", async () => {
  const path = libcPath();
  const script = `
    import { runProcess } from "${new URL(
    "../../../src/runners/_process.ts",
    import.meta.url,
  )}";
    const execution = {
      job: { id: "j", executionNs: 1n, status: "triggered" },
      rule: { id: "r", pattern: "", runner: { kind: "shell", command: "" } },
      signal: new AbortController().signal,
    };
    const { outcome } = await runProcess("sh", ["-c", "exit 4"], execution);
    console.log(JSON.stringify(outcome));
  `;
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  const run = async (...flags: string[]) => {
    const { stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", ...flags, file],
      env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
    }).output();
    return decoder.decode(stdout).trim() || decoder.decode(stderr);
  };
  try {
    await Deno.writeTextFile(file, script);
    assert.equal(
      await run(`--allow-ffi=${path}`),
      '{"ok":false,"reason":"exited with code 4","detail":"exit:4"}',
    );
    assert.match(
      await run(),
      /^\{"ok":false,"reason":"cannot run \\"sh\\": no FFI permission for the C library \(needs --allow-ffi=\/lib\/.*libc\.so\.6 or /,
    );
  } finally {
    await Deno.remove(file);
  }
});

/** This process's open fds (Deno reserves /proc/self/fd to --allow-all). */
function openFds(): number[] {
  const libc = Deno.dlopen(libcPath(), {
    fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  });
  try {
    const F_GETFD = 1;
    return Array.from({ length: 4096 }, (_, fd) => fd)
      .filter((fd) => libc.symbols.fcntl(fd, F_GETFD, 0) >= 0);
  } finally {
    libc.close();
  }
}

/** What each fd is (`readlink`), and for a pidfd the pid it refers to. */
function describeFds(fds: number[]) {
  const libc = Deno.dlopen(libcPath(), {
    readlink: { parameters: ["buffer", "buffer", "usize"], result: "isize" },
    open: { parameters: ["buffer", "i32"], result: "i32" },
    read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
    close: { parameters: ["i32"], result: "i32" },
  });
  const text = (bytes: Uint8Array, n: number | bigint) =>
    new TextDecoder().decode(bytes.subarray(0, Math.max(0, Number(n))));
  const path = (p: string) => new TextEncoder().encode(`${p}\0`);
  try {
    return fds.map((fd) => {
      const buffer = new Uint8Array(4096);
      const link = text(
        buffer,
        libc.symbols.readlink(path(`/proc/self/fd/${fd}`), buffer, 4096n),
      );
      if (link !== "anon_inode:[pidfd]") return { fd, link };
      const info = libc.symbols.open(path(`/proc/self/fdinfo/${fd}`), 0);
      const n = libc.symbols.read(info, buffer, 4096n);
      libc.symbols.close(info);
      return {
        fd,
        link,
        pidfdOf: text(buffer, n).match(/^Pid:\s+(-?\d+)/m)?.[1],
      };
    });
  } finally {
    libc.close();
  }
}

/** The processes among `pids` that are still this process's children. */
async function alive(pids: string[]): Promise<string[]> {
  const { stdout } = await new Deno.Command("ps", {
    args: ["-o", "pid=,ppid=,stat=", "-p", pids.join(",")],
  }).output();
  return new TextDecoder().decode(stdout).split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([, ppid]) => ppid === String(Deno.pid))
    .map((fields) => fields.join(" "));
}
