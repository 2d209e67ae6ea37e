// Markdown tables.
import { fmt } from './stats.js'

/** headers: string[]; rows: Array<Array<string|number>>. Numbers are formatted with fmt(). */
export function markdownTable (headers, rows) {
  const cells = rows.map(r => headers.map((_, i) => fmt(r[i])))
  const right = headers.map((_, i) => i > 0)
  const line = cs => `| ${cs.join(' | ')} |`
  return [
    line(headers),
    line(headers.map((_, i) => right[i] ? '---:' : '---')),
    ...cells.map(line)
  ].join('\n')
}
