/** The records of the group being formed, and how its appends are settled. */

/** A group taken for writing: its bytes and how to settle its appends. */
export interface Group {
  readonly bytes: Uint8Array;
  readonly records: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

const ENCODER = new TextEncoder();

/**
 * Collects the lines appended since the last group was taken; every append
 * of one group shares one promise.
 */
export class GroupBuffer {
  #lines: string[] = [];
  #group: PromiseWithResolvers<void> | undefined;

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

  /** Takes the forming group, its lines joined and encoded. */
  take(): Group | undefined {
    const lines = this.#lines;
    const group = this.#group;
    if (lines.length === 0 || group === undefined) return undefined;
    this.#lines = [];
    this.#group = undefined;
    const records = lines.length;
    lines.push(""); // one join gives the final LF
    return {
      bytes: ENCODER.encode(lines.join("\n")),
      records,
      resolve: group.resolve,
      reject: group.reject,
    };
  }
}
