/**
 * A log block holds a batch of events (group commit): one event JSON per line. JSON never
 * contains a raw newline, so the split is exact; an event is addressed by (log, block, line).
 */
export function encodeBlock (jsons: string[]): Buffer {
  return Buffer.from(jsons.join('\n'))
}

/** Lines of a block, each parsed or an error; a bad line never hides the others. */
export function decodeBlock (block: Buffer): Array<{ json: string, value: unknown } | { json: string, error: string }> {
  const out: Array<{ json: string, value: unknown } | { json: string, error: string }> = []
  for (const json of block.toString('utf8').split('\n')) {
    try {
      out.push({ json, value: JSON.parse(json) })
    } catch (err) {
      out.push({ json, error: (err as Error).message })
    }
  }
  return out
}
