import assert from "node:assert/strict";
import { type Frame, LineSplitter } from "../../../src/protocol/framing.ts";

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/** Frames as comparable text: decoded lines, `!` + head length for overlong. */
function show(frames: Frame[]): string[] {
  return frames.map((frame) =>
    frame.kind === "text"
      ? `text:${frame.text}`
      : frame.kind === "line"
      ? `line:${DECODER.decode(frame.bytes)}`
      : `overlong:${frame.head.length}`
  );
}

Deno.test("LineSplitter decodes whole ASCII chunks, CR removed once", () => {
  const splitter = new LineSplitter();
  assert.deepEqual(
    show(
      splitter.push(ENCODER.encode(`a\r\nb\r\r\n\n${"x".repeat(5000)}\nc\nd`)),
    ),
    ["text:a", "text:b\r", "text:", "overlong:4096", "text:c"],
  );
  // The rest of a line begun earlier comes as bytes, CR still there.
  assert.deepEqual(show(splitter.push(ENCODER.encode("e\r\r\nf\n"))), [
    "line:de\r\r",
    "text:f",
  ]);
});

Deno.test("LineSplitter hands non-ASCII and invalid UTF-8 chunks over as bytes", () => {
  const splitter = new LineSplitter();
  assert.deepEqual(show(splitter.push(ENCODER.encode("é\na\n"))), [
    "line:é",
    "line:a",
  ]);
  const bad = new Uint8Array([0x61, 0xff, 0x0a, 0x62, 0x0a]);
  assert.deepEqual(
    splitter.push(bad).map((frame) => frame.kind),
    ["line", "line"],
  );
});
