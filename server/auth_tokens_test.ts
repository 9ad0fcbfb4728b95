import assert from "node:assert/strict";
import { createAuthTokens, loadAuthTokens } from "./auth_tokens.ts";
import { ConfigError } from "./config.ts";

Deno.test("createAuthTokens() accepts exactly the listed bearer tokens", () => {
  const tokens = createAuthTokens(["alpha-1", "beta-2"]);
  assert.equal(tokens.size, 2);
  assert.equal(tokens.verify("Bearer alpha-1"), true);
  assert.equal(tokens.verify("bearer beta-2"), true);
  assert.equal(tokens.verify("Bearer  beta-2 "), true);
  for (
    const refused of [
      undefined,
      "",
      "Bearer",
      "Bearer ",
      "alpha-1",
      "Basic alpha-1",
      "Bearer alpha-",
      "Bearer alpha-12",
      "Bearer alpha-1 beta-2",
    ]
  ) {
    assert.equal(tokens.verify(refused), false, String(refused));
  }
});

Deno.test("createAuthTokens() throws RangeError for no token or a token with white space", () => {
  assert.throws(() => createAuthTokens([]), RangeError);
  assert.throws(() => createAuthTokens([""]), RangeError);
  assert.throws(() => createAuthTokens(["a b"]), RangeError);
});

Deno.test("loadAuthTokens() reads one token per line, skipping blanks and comments", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(path, "# tokens\n one \n\ntwo\r\n");
    const tokens = await loadAuthTokens(path);
    assert.equal(tokens.size, 2);
    assert.ok(tokens.verify("Bearer one"));
    assert.ok(tokens.verify("Bearer two"));
    assert.ok(!tokens.verify("Bearer # tokens"));
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("loadAuthTokens() throws ConfigError for a missing or empty file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      loadAuthTokens(`${dir}/missing`),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message.startsWith(
          `Cannot read --auth-token-file "${dir}/missing"`,
        ),
    );
    await Deno.writeTextFile(`${dir}/empty`, "# none yet\n\n");
    await assert.rejects(
      loadAuthTokens(`${dir}/empty`),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message ===
          `Cannot use --auth-token-file "${dir}/empty": Cannot accept bearer tokens: none given`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
