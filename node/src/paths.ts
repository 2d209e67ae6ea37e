import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let root: string | undefined

/** The package root (holding package.json): code runs from node/src (tests) and dist/ (build). */
export function packageRoot (): string {
  if (root !== undefined) return root
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'node'))) return (root = dir)
    const up = dirname(dir)
    if (up === dir) throw new Error('outpost package root not found')
    dir = up
  }
}
