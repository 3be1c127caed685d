/**
 * Every figure of a run, with its repetition samples, and the targets
 * they are held against (benchmarks print; tests never assert).
 *
 * @module
 */
import { summarize, type Summary } from "./_stats.ts";

/** One measured figure: the samples of its repetitions and their summary. */
export interface Figure extends Summary {
  readonly id: string;
  readonly label: string;
  readonly unit: string;
  readonly note?: string;
}

/** A target: figure `id` compared against `bound` (or a figure times `factor`). */
export interface Target {
  readonly label: string;
  readonly figure: string;
  readonly op: ">=" | "<=";
  /** A fixed bound, or a bound derived from another figure. */
  readonly bound: number | { figure: string; factor: number };
  readonly unit: string;
  /** Which value of the figure is held against the bound (default median). */
  readonly stat?: "median" | "max";
}

/** The evaluation of one target. */
export interface TargetResult {
  readonly label: string;
  readonly measured: number;
  readonly required: number;
  readonly op: ">=" | "<=";
  readonly unit: string;
  readonly status: "met" | "missed" | "n/a";
}

/** Collects figures as scenarios produce them. */
export class Results {
  readonly figures = new Map<string, Figure>();
  readonly notes: string[] = [];

  /** Adds (or replaces) a figure from its repetition samples. */
  add(
    id: string,
    label: string,
    unit: string,
    samples: readonly number[],
    note?: string,
  ): Figure {
    const figure: Figure = {
      id,
      label,
      unit,
      ...summarize(samples.filter((s) => Number.isFinite(s))),
      ...(note ? { note } : {}),
    };
    this.figures.set(id, figure);
    return figure;
  }

  get(id: string): Figure | undefined {
    return this.figures.get(id);
  }

  /** Median of a figure, or NaN when it was not measured. */
  median(id: string): number {
    return this.figures.get(id)?.median ?? NaN;
  }

  note(text: string): void {
    this.notes.push(text);
  }

  /** Evaluates targets against the medians. */
  evaluate(targets: readonly Target[]): TargetResult[] {
    return targets.map((target) => {
      const figure = this.figures.get(target.figure);
      const measured = target.stat === "max"
        ? figure?.max ?? NaN
        : figure?.median ?? NaN;
      const required = typeof target.bound === "number"
        ? target.bound
        : this.median(target.bound.figure) * target.bound.factor;
      const status = !Number.isFinite(measured) || !Number.isFinite(required)
        ? "n/a"
        : (target.op === ">=" ? measured >= required : measured <= required)
        ? "met"
        : "missed";
      return {
        label: target.label,
        measured,
        required,
        op: target.op,
        unit: target.unit,
        status,
      };
    });
  }
}
