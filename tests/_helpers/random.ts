/** A tiny seeded PRNG (mulberry32) so "random" input is reproducible. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `text` with one to four random edits from `next`: a character replaced,
 * inserted or deleted, or the text cut short.
 */
export function mutate(text: string, next: () => number): string {
  const chars = [...text];
  const edits = 1 + Math.floor(next() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(next() * chars.length);
    const byte = String.fromCharCode(Math.floor(next() * 256));
    const kind = next();
    if (kind < 0.4) chars[at] = byte;
    else if (kind < 0.7) chars.splice(at, 0, byte);
    else if (kind < 0.9) chars.splice(at, 1);
    else chars.length = at; // truncated
  }
  return chars.join("");
}
