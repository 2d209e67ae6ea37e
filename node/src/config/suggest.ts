/** The closest candidate to a mistyped name, or null when nothing is close. */
export function suggest (input: string, candidates: readonly string[]): string | null {
  const leaf = (s: string): string => s.slice(s.lastIndexOf('.') + 1).toLowerCase()
  // beyond a third of the word it is a different word, not a typo
  const close = (a: string, b: string): number => {
    const d = distance(a, b)
    return d <= Math.max(1, Math.floor(a.length / 3)) ? d : Infinity
  }
  let best: string | null = null
  let bestDistance = Infinity
  for (const c of candidates) {
    // `maxTags` at the top level of a config file means `limits.maxTags`
    const d = Math.min(close(input.toLowerCase(), c.toLowerCase()), close(leaf(input), leaf(c)))
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  return best
}

// Levenshtein plus adjacent swaps (optimal string alignment): `--prot` is one slip from `--port`
function distance (a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => i === 0 ? j : j === 0 ? i : 0))
  const at = (i: number, j: number): number => (d[i] as number[])[j] as number
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1)
      ;(d[i] as number[])[j] = v
    }
  }
  return at(a.length, b.length)
}
