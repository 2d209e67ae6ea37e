#!/usr/bin/env node
// Reports the gzip size (level 9, as the node serves it) of every asset of the built phone
// client and the first-load total: index.html plus the CSS and JS it pulls in before anything
// is clicked (static imports followed, lazy chunks listed apart). Exits 1 over the budget.
// Usage: npm run size:web [-- --json] [-- --budget 61440]
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { dirname, join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = join(root, 'captive-portal', 'dist')
const args = process.argv.slice(2)
const json = args.includes('--json')
const bi = args.indexOf('--budget')
const budget = bi >= 0 ? Number(args[bi + 1]) : 60 * 1024

if (!existsSync(join(dist, 'index.html'))) {
  console.error('captive-portal/dist/index.html missing: run `npm run build:web` first')
  process.exit(1)
}

const gz = (file) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length
const raw = (file) => readFileSync(join(dist, file)).length

// what index.html loads: scripts, stylesheets, modulepreloads (same-origin paths only)
const html = readFileSync(join(dist, 'index.html'), 'utf8')
const first = new Set(['index.html'])
for (const m of html.matchAll(/<(?:script|link)\b[^>]*?\b(?:src|href)="\/?([^"#?]+)"/g)) {
  if (!/^[a-z]+:/i.test(m[1]) && existsSync(join(dist, m[1]))) first.add(m[1])
}
// static imports of those scripts, transitively (dynamic import() chunks load later)
const queue = [...first].filter(f => f.endsWith('.js'))
while (queue.length > 0) {
  const f = queue.shift()
  const src = readFileSync(join(dist, f), 'utf8')
  for (const m of src.matchAll(/\bimport\s*(?:[\w$*{}\s,]*?from\s*)?["'](\.{1,2}\/[^"']+)["']/g)) {
    const dep = posix.normalize(posix.join(posix.dirname(f), m[1]))
    if (!first.has(dep) && existsSync(join(dist, dep))) { first.add(dep); queue.push(dep) }
  }
}

const all = ['index.html', ...readdirSync(join(dist, 'assets')).filter(f => !f.endsWith('.gz') && !f.endsWith('.map')).map(f => 'assets/' + f)]
const rows = all.map(file => ({ file, bytes: raw(file), gzip: gz(file), firstLoad: first.has(file) }))
const total = rows.filter(r => r.firstLoad).reduce((s, r) => s + r.gzip, 0)
const lazy = rows.filter(r => !r.firstLoad).reduce((s, r) => s + r.gzip, 0)
const ok = total <= budget

if (json) {
  console.log(JSON.stringify({ budget, firstLoadGzip: total, lazyGzip: lazy, ok, assets: rows }, null, 2))
} else {
  const kb = (n) => (n / 1024).toFixed(1).padStart(7) + ' KB'
  console.log('asset'.padEnd(40) + '      raw' + '     gzip' + '  loaded')
  for (const r of rows) console.log(r.file.padEnd(40) + kb(r.bytes) + kb(r.gzip) + (r.firstLoad ? '  first' : '  lazy'))
  console.log(`first load (HTML+JS+CSS, gzip): ${kb(total).trim()} of ${kb(budget).trim()} budget${ok ? '' : '  OVER BUDGET'}`)
  console.log(`loaded later on demand (gzip): ${kb(lazy).trim()}`)
}
process.exit(ok ? 0 : 1)
