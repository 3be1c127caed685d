import assert from "node:assert/strict";
import { redactUrl } from "../../../src/runners/redact.ts";

Deno.test({
  name: "redactUrl() removes user and password of a DSN",
  permissions: "none",
  fn() {
    assert.equal(
      redactUrl("amqp://user:pass@broker:5672/"),
      "amqp://broker:5672/",
    );
    assert.equal(redactUrl("redis://:s3cret@cache/2"), "redis://cache/2");
    assert.equal(redactUrl("redis://alice@cache"), "redis://cache");
    assert.equal(
      redactUrl("https://bot:t0ken@ci.example.org/hooks?x=1"),
      "https://ci.example.org/hooks?x=1",
    );
  },
});

Deno.test({
  name: "redactUrl() cuts up to the last @ of the authority",
  permissions: "none",
  fn() {
    assert.equal(
      redactUrl("amqp://app:p@ss@w0rd@[::1]:5672/%2F"),
      "amqp://[::1]:5672/%2F",
    );
  },
});

Deno.test({
  name: "redactUrl() leaves an @ after the authority alone",
  permissions: "none",
  fn() {
    assert.equal(
      redactUrl("http://example.org/users/@me"),
      "http://example.org/users/@me",
    );
    assert.equal(redactUrl("http://h?mail=a@b"), "http://h?mail=a@b");
    assert.equal(redactUrl("http://h#a@b"), "http://h#a@b");
  },
});

Deno.test({
  name: "redactUrl() redacts every URL inside a longer text",
  permissions: "none",
  fn() {
    assert.equal(
      redactUrl(
        'Cannot reach "redis://u:p@cache:6379/1" nor amqp://g:g@mq/ (mail ops@example.org)',
      ),
      'Cannot reach "redis://cache:6379/1" nor amqp://mq/ (mail ops@example.org)',
    );
  },
});

Deno.test({
  name: "redactUrl() returns text without userinfo unchanged",
  permissions: "none",
  fn() {
    const texts = ["", "user@host", "redis://cache:6379/0", "amqp://"];
    for (const text of texts) assert.equal(redactUrl(text), text);
    assert.equal(redactUrl("redis://@cache"), "redis://cache");
  },
});
