/**
 * Lets at most one failing export per interval reach the collector (spec:
 * configuration.md §6: a collector that is down costs at most one 2 s
 * export per interval). Loaded with the SDK only.
 *
 * @module
 */
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import type { OTLPExporterBase } from "@opentelemetry/otlp-exporter-base";

/** The error of an export the gate refused; counted, not logged one by one. */
export const SKIPPED_MESSAGE =
  "export skipped: the collector failed within the last interval";

/**
 * After a failure, exports fail at once (before serializing) until
 * `intervalMs` after the failed one started; then one probe goes through
 * while the others still fail. The SDK's batch processors export as soon
 * as a batch is full and again right after a failure, so without this a
 * refusing collector under load would be asked many times per interval.
 */
export class GatedExporter<T> {
  readonly #inner: OTLPExporterBase<T>;
  readonly #intervalMs: number;
  #state: "healthy" | "probing" | "blocked" = "healthy";
  #blockedUntil = 0;

  constructor(inner: OTLPExporterBase<T>, intervalMs: number) {
    this.#inner = inner;
    this.#intervalMs = intervalMs;
  }

  export(items: T, resultCallback: (result: ExportResult) => void): void {
    const startedMs = performance.now();
    if (
      this.#state === "probing" ||
      (this.#state === "blocked" && startedMs < this.#blockedUntil)
    ) {
      resultCallback({
        code: ExportResultCode.FAILED,
        error: new Error(SKIPPED_MESSAGE),
      });
      return;
    }
    if (this.#state === "blocked") this.#state = "probing";
    this.#inner.export(items, (result) => {
      if (result.code === ExportResultCode.SUCCESS) {
        this.#state = "healthy";
      } else {
        this.#state = "blocked";
        this.#blockedUntil = Math.max(
          startedMs + this.#intervalMs,
          performance.now(),
        );
      }
      resultCallback(result);
    });
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }
}
