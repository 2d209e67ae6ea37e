#!/usr/bin/env node
// Builds native/build/Release/outpost_schnorr.node (libsecp256k1 Schnorr verifier).
// Runs from `npm install` (prepare) so it must never fail the install: any problem
// prints one line and exits 0, and the node falls back to pure-JS verification.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, statSync, writeFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, delimiter } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const nativeDir = join(root, 'native')
const out = join(nativeDir, 'build', 'Release', 'outpost_schnorr.node')
const sources = [join(nativeDir, 'binding.gyp'), join(nativeDir, 'src', 'schnorr.c')]
const FALLBACK = 'native Schnorr verifier not built (install libsecp256k1-dev for ~30x faster verification); using pure JS'
const force = process.argv.includes('--force')

function skip (detail) {
  console.log(detail ? `${FALLBACK} [${detail}]` : FALLBACK)
  process.exit(0)
}

function mtime (p) {
  try { return statSync(p).mtimeMs } catch { return -1 }
}

function headerDirs () {
  const env = [process.env.CPATH, process.env.C_INCLUDE_PATH].filter(Boolean).join(delimiter)
  return [...env.split(delimiter).filter(Boolean), '/usr/include', '/usr/local/include', '/opt/homebrew/include']
}

// npm sets npm_config_node_gyp for lifecycle scripts; otherwise use the one bundled with npm.
function findNodeGyp () {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')
  ]
  for (const c of candidates) if (c && existsSync(c)) return c
  try { return createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js') } catch { return null }
}

// BIP-340 test vector 0: proves the built addon loads and links against a working libsecp256k1.
function selfTest () {
  const addon = createRequire(import.meta.url)(out)
  const msg = Buffer.alloc(32)
  const pub = Buffer.from('f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9', 'hex')
  const sig = Buffer.from('e907831f80848d1069a5371b402410364bdf1c5f8307b0084c55f1ce2dca821525f66a4a85ea8b71e482a74f382d2ce5ebeee8fdb2172f477df4900d310536c0', 'hex')
  if (addon.verify(msg, pub, sig) !== true) throw new Error('valid test vector rejected')
  sig[63] ^= 1
  if (addon.verify(msg, pub, sig) !== false) throw new Error('tampered test vector accepted')
}

function main () {
  if (process.env.OUTPOST_SKIP_NATIVE === '1') skip('OUTPOST_SKIP_NATIVE=1')

  const builtAt = mtime(out)
  if (!force && builtAt > 0 && sources.every(s => mtime(s) < builtAt)) {
    try { selfTest(); console.log('native Schnorr verifier up to date'); return } catch { /* rebuild below */ }
  }

  if (!headerDirs().some(d => existsSync(join(d, 'secp256k1_schnorrsig.h')))) skip('secp256k1_schnorrsig.h not found')
  const nodeGyp = findNodeGyp()
  if (nodeGyp === null) skip('node-gyp not found')

  // Point node-gyp at the local Node headers so it never tries to download them.
  const args = [nodeGyp, 'rebuild']
  const localHeaders = join(dirname(process.execPath), '..')
  if (!process.env.npm_config_nodedir && existsSync(join(localHeaders, 'include', 'node', 'node_api.h'))) {
    args.push(`--nodedir=${localHeaders}`)
  }
  const r = spawnSync(process.execPath, args, { cwd: nativeDir, encoding: 'utf8', timeout: 300_000 })
  const log = join(nativeDir, 'build', 'build-native.log')
  try {
    mkdirSync(dirname(log), { recursive: true })
    writeFileSync(log, `${r.stdout ?? ''}\n${r.stderr ?? ''}\n${r.error ? String(r.error) : ''}`)
  } catch { /* best effort */ }
  if (r.status !== 0 || !existsSync(out)) skip(`node-gyp failed, see ${log}`)

  try {
    selfTest()
  } catch (err) {
    rmSync(out, { force: true }) // never leave a broken addon for the runtime to load
    skip(`built addon failed its self-test: ${err instanceof Error ? err.message : String(err)}`)
  }
  console.log('native Schnorr verifier built: native/build/Release/outpost_schnorr.node')
}

try {
  main()
} catch (err) {
  skip(err instanceof Error ? err.message : String(err))
}
