import { errorMessage } from "../errors.ts";
import { logger } from "../log.ts";
import { errorAnswer } from "../protocol/answer.ts";
import type { CountRequest, RequestName } from "../telemetry/requests.ts";
import type { RequestSpan } from "../telemetry/telemetry.ts";

const log = logger("server");

/**
 * The answers to one chunk of requests, in order. Mutations wait for their
 * journal group; a group that fails turns its answers into `ERROR`.
 */
export class AnswerBatch {
  readonly texts: string[] = [];
  chars = 0;
  readonly #count: CountRequest | undefined;
  /** Per mutation: where its answer is, its request id, command, group. */
  readonly #waitIndexes: number[] = [];
  readonly #waitIds: string[] = [];
  readonly #waitCommands: RequestName[] = [];
  readonly #waitGroups: Promise<void>[] = [];
  /** Per mutation, when telemetry is on: its request's span. */
  #waitSpans: (RequestSpan | undefined)[] | undefined;
  /** The groups, each once per run of records sharing it. */
  readonly #groups: Promise<void>[] = [];

  constructor(count: CountRequest | undefined) {
    this.#count = count;
  }

  add(text: string): void {
    this.texts.push(text);
    this.chars += text.length;
  }

  /** Adds an answer that holds until `committed` settles; then `span` ends. */
  addCommitted(
    text: string,
    requestId: string,
    command: RequestName,
    committed: Promise<void>,
    span?: RequestSpan,
  ): void {
    if (span !== undefined) {
      (this.#waitSpans ??= [])[this.#waitGroups.length] = span;
    }
    this.#waitIndexes.push(this.texts.length);
    this.#waitIds.push(requestId);
    this.#waitCommands.push(command);
    this.#waitGroups.push(committed);
    if (this.#groups.at(-1) !== committed) this.#groups.push(committed);
    this.add(text);
  }

  /** Waits for every mutation's record and returns the text to write. */
  async settle(): Promise<string> {
    const groups = this.#groups;
    if (groups.length > 0) {
      const failed = new Map<Promise<void>, unknown>();
      if (groups.length === 1) {
        // The common case, without the promises `Promise.all` would add.
        await groups[0]!.catch((error) => failed.set(groups[0]!, error));
      } else {
        await Promise.all(
          groups.map((p) => p.catch((error) => failed.set(p, error))),
        );
      }
      this.#settled(failed);
    }
    const texts = this.texts;
    return texts.length === 1 ? texts[0]! : texts.join("");
  }

  /** Counts the mutations and turns those of failed groups into `ERROR`. */
  #settled(failed: Map<Promise<void>, unknown>): void {
    for (let i = 0; i < this.#waitGroups.length; i++) {
      const group = this.#waitGroups[i]!;
      this.#count?.(this.#waitCommands[i]!, !failed.has(group));
      this.#waitSpans?.[i]?.end(!failed.has(group));
      if (!failed.has(group)) continue;
      const requestId = this.#waitIds[i]!;
      const reason = `not persisted: ${errorMessage(failed.get(group))}`;
      log.info(`request ${requestId}: ${reason}`, {
        request: requestId,
        reason,
      });
      this.texts[this.#waitIndexes[i]!] = errorAnswer(requestId);
    }
  }
}
