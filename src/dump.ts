import type { Mutation } from "./domain/mutation.ts";
import { isIoError } from "./persistence/files.ts";
import { LiveRecords } from "./persistence/live_records.ts";
import { formatRecord, parseRecord } from "./persistence/record.ts";
import { formatJson } from "./persistence/record_json.ts";
import { INVALID_UTF8, LineReader } from "./persistence/replay.ts";
import { dataEnd, RecordSource } from "./persistence/_zero_tail.ts";
import { fsReason } from "./errors.ts";
import { writeAll } from "./io.ts";

const ENCODER = new TextEncoder();
/** How often `--follow` looks at the file by default (spec: at most 500 ms). */
const FOLLOW_POLL_MS = 100;
const COMPACTED_NOTICE =
  "notice: logfile was compacted; re-reading from the start\n";

/** Where dump writes: a byte stream, or a function taking text. */
export type DumpOutput =
  | WritableStream<Uint8Array>
  | ((text: string) => void | Promise<void>);

/** `ztick dump` arguments (spec: configuration.md §1, persistence.md §10). */
export interface DumpOptions {
  readonly logfile: string;
  readonly format: "text" | "json";
  readonly compact: boolean;
  readonly follow: boolean;
  /** Runs kept per job by `compact`; 10 unless set (extensions.md §5). */
  readonly history?: number;
  /** Ends `--follow` with exit code 0 (main.ts aborts it on SIGINT/SIGTERM). */
  readonly signal?: AbortSignal;
  /** Defaults to `Deno.stdout`. */
  readonly stdout?: DumpOutput;
  /** Defaults to `Deno.stderr`. */
  readonly stderr?: DumpOutput;
  /** How often `--follow` checks the file; 100 ms unless set. */
  readonly pollMs?: number;
}

/**
 * Prints a logfile's records as canonical text or NDJSON, optionally only
 * the live ones (`compact`), optionally following appends and compactions;
 * never modifies the file. Returns the exit code: 0, or 1 when the file
 * cannot be opened or read (spec: persistence.md §10).
 *
 * `--compact` with `--follow` compacts each read from the start of a file
 * (the initial one, and the one after a compaction notice); records appended
 * later are printed one by one as they come, removals included.
 */
export async function runDump(options: DumpOptions): Promise<number> {
  const stdout = openOutput(options.stdout, Deno.stdout);
  const stderr = openOutput(options.stderr, Deno.stderr);
  try {
    return await new Dump(options, stdout, stderr).run();
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) return 0; // e.g. `| head`
    throw error;
  } finally {
    stdout.release();
    stderr.release();
  }
}

/** A text sink; `release` gives the underlying stream back. */
interface Output {
  write(text: string): Promise<void>;
  release(): void;
}

function openOutput(
  output: DumpOutput | undefined,
  fallback: { write(p: Uint8Array): Promise<number> },
): Output {
  if (output === undefined) {
    return {
      write: (text) => writeAll(fallback, ENCODER.encode(text)),
      release() {},
    };
  }
  if (typeof output === "function") {
    return {
      async write(text) {
        await output(text);
      },
      release() {},
    };
  }
  let writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  return {
    async write(text) {
      writer ??= output.getWriter();
      await writer.write(ENCODER.encode(text));
    },
    release() {
      writer?.releaseLock();
    },
  };
}

/** The file being dumped, the reader of its lines, and its identity. */
interface Source {
  readonly file: Deno.FsFile;
  /** Reads the records, not the zero tail a running daemon keeps. */
  readonly records: RecordSource;
  readonly reader: LineReader;
  readonly ino: number | null;
  readonly dev: number;
}

class Dump {
  readonly #options: DumpOptions;
  readonly #stdout: Output;
  readonly #stderr: Output;
  readonly #format: (mutation: Mutation) => string;
  /** Output and warnings gathered since the last flush. */
  #out: string[] = [];
  #err: string[] = [];
  /** Set while a read from the start is being compacted. */
  #live: LiveRecords | undefined;

  constructor(options: DumpOptions, stdout: Output, stderr: Output) {
    this.#options = options;
    this.#stdout = stdout;
    this.#stderr = stderr;
    this.#format = options.format === "json" ? formatJson : formatRecord;
  }

  async run(): Promise<number> {
    const { follow, signal } = this.#options;
    let source: Source;
    try {
      source = await this.#open();
    } catch (error) {
      return await this.#fail(error);
    }
    try {
      await this.#readFromStart(source);
      if (!follow) {
        this.#warnPending(source);
        await this.#flush();
        return 0;
      }
      const pollMs = this.#options.pollMs ?? FOLLOW_POLL_MS;
      while (!signal?.aborted) {
        await sleep(pollMs, signal);
        if (signal?.aborted) break;
        source = await this.#checkFile(source);
        while (await source.reader.readChunk()) await this.#flush();
        await this.#flush();
      }
      this.#warnPending(source);
      await this.#flush();
      return 0;
    } catch (error) {
      if (!isIoError(error) || error instanceof Deno.errors.BrokenPipe) {
        throw error;
      }
      await this.#flush();
      return await this.#fail(error);
    } finally {
      source.file.close();
    }
  }

  async #open(): Promise<Source> {
    const file = await Deno.open(this.#options.logfile, { read: true });
    try {
      const { ino, dev } = await file.stat();
      const records = new RecordSource(file);
      const reader = this.#lineReader(records);
      return { file, records, reader, ino, dev };
    } catch (error) {
      file.close();
      throw error;
    }
  }

  #lineReader(records: RecordSource): LineReader {
    return new LineReader(records, (line, n) => this.#onLine(line, n));
  }

  /**
   * Prints the file from its beginning to the end of its records (before
   * its zero tail), compacted if asked; reads on from there up to the first
   * NUL, where the daemon has not written yet.
   */
  async #readFromStart(source: Source): Promise<void> {
    if (this.#options.compact) {
      this.#live = new LiveRecords(this.#options.history ?? 10);
    }
    const { reader, records, file } = source;
    records.limit = await dataEnd(file, (await file.stat()).size);
    await records.seek(0);
    while (await reader.readChunk()) await this.#flush();
    records.limit = undefined;
    const live = this.#live;
    this.#live = undefined;
    if (live !== undefined) {
      for (const mutation of live.take()) {
        this.#out.push(this.#format(mutation), "\n");
        if (this.#out.length >= 8192) await this.#flush();
      }
    }
    await this.#flush();
  }

  /**
   * Notices a compaction (another file renamed over the path, or the file
   * shrank below what was read) and re-reads from the start; a shrink that
   * only cut an incomplete last line (the daemon's startup repair) drops
   * that line and reads on.
   */
  async #checkFile(source: Source): Promise<Source> {
    const { logfile } = this.#options;
    let current: Deno.FileInfo | undefined;
    try {
      current = await Deno.stat(logfile);
    } catch (error) {
      // Gone for now (deleted, or being replaced): keep the open file.
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    const replaced = current !== undefined && current.ino !== null &&
      (current.ino !== source.ino || current.dev !== source.dev);
    const { size } = replaced ? current! : await source.file.stat();
    const { reader } = source;
    if (replaced || size < reader.completeBytes) {
      let next = source;
      if (replaced) {
        next = await this.#open();
        source.file.close();
      } else {
        const records = new RecordSource(source.file);
        next = { ...source, records, reader: this.#lineReader(records) };
      }
      this.#err.push(COMPACTED_NOTICE);
      await this.#flush();
      await this.#readFromStart(next);
      return next;
    }
    if (size < reader.completeBytes + reader.pendingBytes) {
      this.#warnPending(source);
      reader.dropPending();
      await source.records.seek(reader.completeBytes);
    }
    return source;
  }

  #onLine(line: string | undefined, lineNumber: number): void {
    if (line === undefined) {
      this.#err.push(`warning: line ${lineNumber} skipped: ${INVALID_UTF8}\n`);
      return;
    }
    let mutation: Mutation | undefined;
    try {
      mutation = parseRecord(line);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      this.#err.push(`warning: line ${lineNumber} skipped: ${error.message}\n`);
      return;
    }
    if (mutation === undefined) return;
    if (this.#live !== undefined) this.#live.add(mutation);
    else this.#out.push(this.#format(mutation), "\n");
  }

  #warnPending(source: Source): void {
    const bytes = source.reader.pendingBytes;
    if (bytes > 0) {
      this.#err.push(
        `warning: incomplete last line (${bytes} bytes) ignored\n`,
      );
    }
  }

  async #flush(): Promise<void> {
    if (this.#err.length > 0) {
      const text = this.#err.join("");
      this.#err = [];
      await this.#stderr.write(text);
    }
    if (this.#out.length > 0) {
      const text = this.#out.join("");
      this.#out = [];
      await this.#stdout.write(text);
    }
  }

  async #fail(error: unknown): Promise<number> {
    const path = this.#options.logfile;
    let message: string;
    if (error instanceof Deno.errors.NotFound) {
      message = `error: file not found: ${path}`;
    } else if (
      error instanceof Deno.errors.PermissionDenied ||
      error instanceof Deno.errors.NotCapable
    ) {
      message = `error: permission denied: ${path}`;
    } else if (isIoError(error)) {
      message = `error: cannot read ${path}: ${fsReason(error)}`;
    } else {
      throw error;
    }
    await this.#stderr.write(`${message}\n`);
    return 1;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
