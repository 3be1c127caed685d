/** The records of the group being formed, and how its appends are settled. */

/** A group taken for writing: its bytes and how to settle its appends. */
export interface Group {
  /** Valid until the next group is taken (a reused buffer, mostly). */
  readonly bytes: Uint8Array;
  readonly records: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

const ENCODER = new TextEncoder();
/** Groups up to a third of this many UTF-16 units are encoded into it. */
const REUSED_BYTES = 64 * 1024;

/**
 * Collects the lines appended since the last group was taken; every append
 * of one group shares one promise.
 */
export class GroupBuffer {
  #lines: string[] = [];
  #group: PromiseWithResolvers<void> | undefined;
  /** Spares each group a fresh `Uint8Array`: their allocation is costly. */
  readonly #buffer = new Uint8Array(REUSED_BYTES);

  /** Tells whether lines wait to be written. */
  get pending(): boolean {
    return this.#lines.length > 0;
  }

  /** The promise the appends of the forming group share, if any. */
  get current(): Promise<void> | undefined {
    return this.#group?.promise;
  }

  /** Adds a line (without LF); returns its group's promise. */
  add(line: string): Promise<void> {
    this.#lines.push(line);
    return (this.#group ??= Promise.withResolvers<void>()).promise;
  }

  /**
   * Takes the forming group, its lines joined and encoded; its bytes are
   * valid until the next call.
   */
  take(): Group | undefined {
    const lines = this.#lines;
    const group = this.#group;
    if (lines.length === 0 || group === undefined) return undefined;
    this.#lines = [];
    this.#group = undefined;
    const records = lines.length;
    lines.push(""); // one join gives the final LF
    const text = lines.join("\n");
    const buffer = this.#buffer;
    // A UTF-16 unit takes at most 3 UTF-8 bytes.
    const bytes = text.length * 3 <= buffer.length
      ? buffer.subarray(0, ENCODER.encodeInto(text, buffer).written)
      : ENCODER.encode(text);
    return {
      bytes,
      records,
      resolve: group.resolve,
      reject: group.reject,
    };
  }
}
