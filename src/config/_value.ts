/**
 * One configuration key's value, read as the type its key needs, with the
 * spec's error message when it is not (configuration.md §3).
 *
 * @module
 */
import { parseDuration } from "../domain/duration.ts";
import { ConfigError } from "./config_error.ts";
import { type ListenAddress, parseListenAddress } from "./listen_address.ts";

/** One key's value, with what its error messages need. */
export class Value {
  constructor(
    readonly section: string,
    readonly key: string,
    readonly raw: unknown,
  ) {}

  fail(detail: string): never {
    throw new ConfigError(`config: [${this.section}] ${this.key} ${detail}`);
  }

  string(): string {
    if (typeof this.raw !== "string") this.fail("must be a string");
    return this.raw;
  }

  /** A duration string of the protocol's syntax (extensions.md §1), in ms. */
  duration(): number {
    if (typeof this.raw === "string") {
      try {
        return parseDuration(this.raw);
      } catch { /* a bad duration: failed below */ }
    }
    this.fail("must be a duration");
  }

  boolean(): boolean {
    if (typeof this.raw !== "boolean") this.fail("must be a boolean");
    return this.raw;
  }

  /** An integer in `[min, max]`; a float is a type error, not a range one. */
  integer(min: number, max: number): number {
    if (typeof this.raw !== "bigint") this.fail("must be an integer");
    if (this.raw < BigInt(min) || this.raw > BigInt(max)) {
      this.fail(`must be between ${min} and ${max}`);
    }
    return Number(this.raw);
  }

  strings(): string[] {
    const raw = this.raw;
    if (!Array.isArray(raw) || !raw.every((s) => typeof s === "string")) {
      this.fail("must be an array of strings");
    }
    return [...raw];
  }

  oneOf<T extends string>(choices: readonly T[], detail: string): T {
    const text = this.string();
    if (!(choices as readonly string[]).includes(text)) this.fail(detail);
    return text as T;
  }

  listen(): ListenAddress {
    const address = parseListenAddress(this.string());
    if (address === undefined) this.fail('must be "host:port"');
    return address;
  }
}
