import assert from "node:assert/strict";
import {
  AuthFileError,
  loadAuthFile,
  NO_TOKENS_WARNING,
  parseAuthFile,
} from "../../../src/config/auth_file.ts";
import { tempDir, writeFile } from "../../_helpers/fs.ts";

const AUTH_TOML = `[token.deploy]
secret = "sk_deploy_7f3a91"
namespace = "deploy."

[token.admin]
secret = "sk_admin_5c2e08"
namespace = "*"
`;

function assertAuthError(fn: () => unknown, message: string): void {
  assert.throws(fn, (error) => {
    assert.ok(error instanceof AuthFileError, `not an AuthFileError: ${error}`);
    assert.equal(error.name, "AuthFileError");
    assert.equal(error.message, message);
    return true;
  });
}

async function assertLoadError(
  path: string,
  message: string,
): Promise<void> {
  await assert.rejects(() => loadAuthFile(path), (error) => {
    assert.ok(error instanceof AuthFileError, `not an AuthFileError: ${error}`);
    assert.equal(error.message, message);
    return true;
  });
}

// --- valid files ------------------------------------------------------------

Deno.test({
  name: "parseAuthFile() reads tokens in file order",
  permissions: "none",
  fn() {
    const file = parseAuthFile(AUTH_TOML);
    assert.deepEqual(structuredClone(file), {
      tokens: [
        { name: "deploy", secret: "sk_deploy_7f3a91", namespace: "deploy." },
        { name: "admin", secret: "sk_admin_5c2e08", namespace: "*" },
      ],
      warnings: [],
    });
  },
});

Deno.test({
  name: "parseAuthFile() keeps secrets with spaces and quoted token names",
  permissions: "none",
  fn() {
    const file = parseAuthFile(
      '[token."ci.runner"]\nsecret = "open sesame"\nnamespace = "ci."\n' +
        "[token.dotted]\nsecret = 'lit\\eral'\nnamespace = \"a\"\n",
    );
    assert.deepEqual(structuredClone(file.tokens), [
      { name: "ci.runner", secret: "open sesame", namespace: "ci." },
      { name: "dotted", secret: "lit\\eral", namespace: "a" },
    ]);
  },
});

Deno.test({
  name: "parseAuthFile() warns when there are no tokens",
  permissions: "none",
  fn() {
    for (const text of ["", "# nobody\n", "[token]\n"]) {
      const file = parseAuthFile(text);
      assert.deepEqual(file.tokens, []);
      assert.deepEqual(file.warnings, [NO_TOKENS_WARNING]);
    }
    assert.equal(
      NO_TOKENS_WARNING,
      "auth file: no tokens defined; every AUTH will fail",
    );
  },
});

// --- every error of configuration.md §4 -------------------------------------

/** [what, TOML text, exact message]. */
const ERRORS: [string, string, string][] = [
  [
    "a TOML syntax error",
    "[token.deploy\nsecret = 1\n",
    "auth file: invalid TOML: line 1, column 14: illegal character in key",
  ],
  [
    "a top-level key",
    'secret = "x"\n',
    'auth file: unexpected entry "secret"',
  ],
  [
    "a table other than token",
    '[user.deploy]\nsecret = "x"\nnamespace = "a."\n',
    'auth file: unexpected entry "user"',
  ],
  [
    "token as a plain value",
    'token = "x"\n',
    'auth file: unexpected entry "token"',
  ],
  [
    "an array of token tables",
    '[[token]]\nsecret = "x"\n',
    'auth file: unexpected entry "token"',
  ],
  [
    "an empty token name",
    '[token.""]\nsecret = "x"\nnamespace = "a."\n',
    'auth file: unexpected entry ""',
  ],
  [
    "a plain value inside [token]",
    '[token]\nsecret = "x"\n',
    'auth file: unexpected entry "token.secret"',
  ],
  [
    "an unknown key in a token",
    '[token.deploy]\nsecret = "x"\nnamespace = "a."\nrole = "admin"\n',
    'auth file: unknown key "role" in [token.deploy]',
  ],
  [
    "a nested table in a token",
    '[token.deploy]\nsecret = "x"\nnamespace = "a."\n[token.deploy.extra]\n',
    'auth file: unknown key "extra" in [token.deploy]',
  ],
  [
    "a missing secret",
    '[token.deploy]\nnamespace = "a."\n',
    "auth file: [token.deploy] secret is missing or empty",
  ],
  [
    "an empty secret",
    '[token.deploy]\nsecret = ""\nnamespace = "a."\n',
    "auth file: [token.deploy] secret is missing or empty",
  ],
  [
    "a secret that is not a string",
    '[token.deploy]\nsecret = 42\nnamespace = "a."\n',
    "auth file: [token.deploy] secret is missing or empty",
  ],
  [
    "an empty token table",
    "[token.deploy]\n",
    "auth file: [token.deploy] secret is missing or empty",
  ],
  [
    "a missing namespace",
    '[token.deploy]\nsecret = "x"\n',
    "auth file: [token.deploy] namespace is missing or empty",
  ],
  [
    "an empty namespace",
    '[token.deploy]\nsecret = "x"\nnamespace = ""\n',
    "auth file: [token.deploy] namespace is missing or empty",
  ],
  [
    "a namespace that is not a string",
    '[token.deploy]\nsecret = "x"\nnamespace = ["a."]\n',
    "auth file: [token.deploy] namespace is missing or empty",
  ],
  [
    "two tokens with the same secret",
    '[token.a]\nsecret = "same"\nnamespace = "a."\n' +
    '[token.b]\nsecret = "same"\nnamespace = "b."\n',
    "auth file: [token.a] and [token.b] share the same secret",
  ],
  [
    "a secret repeated after another token",
    '[token.a]\nsecret = "s1"\nnamespace = "a."\n' +
    '[token.b]\nsecret = "s2"\nnamespace = "b."\n' +
    '[token.c]\nsecret = "s1"\nnamespace = "c."\n',
    "auth file: [token.a] and [token.c] share the same secret",
  ],
];

for (const [what, text, message] of ERRORS) {
  Deno.test({
    name: `parseAuthFile() rejects ${what}`,
    permissions: "none",
    fn() {
      assertAuthError(() => parseAuthFile(text), message);
    },
  });
}

Deno.test({
  name: "parseAuthFile() never quotes a secret in a TOML error",
  permissions: "none",
  fn() {
    assert.throws(
      () =>
        parseAuthFile(
          '[token.deploy]\nsecret = "sk_leak_me_0001\nnamespace = "a."\n',
        ),
      (error: Error) => {
        assert.ok(error instanceof AuthFileError);
        assert.match(error.message, /^auth file: invalid TOML: line 2, /);
        assert.ok(!error.message.includes("sk_leak_me"));
        assert.ok(!error.message.includes("\n"));
        return true;
      },
    );
  },
});

Deno.test({
  name: "parseAuthFile() checks unknown keys before secret and namespace",
  permissions: "none",
  fn() {
    assertAuthError(
      () => parseAuthFile('[token.x]\nsecret = ""\nrole = 1\n'),
      'auth file: unknown key "role" in [token.x]',
    );
  },
});

// --- loadAuthFile(): reading and mode ---------------------------------------

Deno.test("loadAuthFile() reads a mode 0600 file without warnings", async () => {
  await using dir = await tempDir("ztick_auth_test_");
  const path = await writeFile(`${dir.path}/auth.toml`, AUTH_TOML, 0o600);
  const file = await loadAuthFile(path);
  assert.equal(file.tokens.length, 2);
  assert.deepEqual(file.warnings, []);
});

Deno.test("loadAuthFile() warns when group or others may read the file", async () => {
  await using dir = await tempDir("ztick_auth_test_");
  for (const mode of [0o644, 0o640, 0o604, 0o400 | 0o004]) {
    const path = await writeFile(`${dir.path}/auth.toml`, AUTH_TOML, mode);
    const file = await loadAuthFile(path);
    assert.equal(file.tokens.length, 2);
    assert.deepEqual(file.warnings, [
      `auth file: ${path} is readable by other users; it should be mode 0600`,
    ], mode.toString(8));
  }
});

Deno.test("loadAuthFile() does not warn for write or execute bits of others", async () => {
  await using dir = await tempDir("ztick_auth_test_");
  const path = await writeFile(`${dir.path}/auth.toml`, AUTH_TOML, 0o622);
  assert.deepEqual((await loadAuthFile(path)).warnings, []);
});

Deno.test("loadAuthFile() returns both warnings for an open file without tokens", async () => {
  await using dir = await tempDir("ztick_auth_test_");
  const path = await writeFile(`${dir.path}/auth.toml`, "# none\n", 0o644);
  assert.deepEqual((await loadAuthFile(path)).warnings, [
    `auth file: ${path} is readable by other users; it should be mode 0600`,
    NO_TOKENS_WARNING,
  ]);
});

Deno.test("loadAuthFile() reports a missing file with the OS reason", async () => {
  await using dir = await tempDir("ztick_auth_test_");
  const path = `${dir.path}/missing.toml`;
  await assertLoadError(
    path,
    `auth file: cannot read ${path}: No such file or directory (os error 2)`,
  );
});

Deno.test("loadAuthFile() reports a directory as unreadable", async () => {
  await using dir = await tempDir("ztick_auth_test_");
  await assertLoadError(
    dir.path,
    `auth file: cannot read ${dir.path}: Is a directory (os error 21)`,
  );
});

Deno.test("loadAuthFile() reports TOML errors as auth file errors", async () => {
  await using dir = await tempDir("ztick_auth_test_");
  const path = await writeFile(`${dir.path}/auth.toml`, "[token.a\n");
  await assertLoadError(
    path,
    "auth file: invalid TOML: line 1, column 9: illegal character in key",
  );
  await Deno.writeFile(path, new Uint8Array([0x23, 0xff, 0x0a]));
  await assertLoadError(path, "auth file: invalid TOML: not valid UTF-8");
});
