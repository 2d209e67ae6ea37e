// Prints the scrypt hash of the admin password read from stdin, one line:
//   scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>
// Given the path of an existing hash that already matches the password, prints that hash
// unchanged (so provisioning twice writes the same file). Node's crypto only: this runs
// before the node's own dependencies are installed.
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'

const N = 16384
const R = 8
const P = 1
const KEYLEN = 32

function matches (line, password) {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(line)
  if (m === null) return false
  const [n, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const salt = Buffer.from(m[4], 'base64')
  const want = Buffer.from(m[5], 'base64')
  if (want.length === 0 || n > 1 << 20) return false
  const got = scryptSync(password, salt, want.length, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 })
  return timingSafeEqual(got, want)
}

const password = readFileSync(0, 'utf8')
if (password.length === 0) {
  process.stderr.write('hash-password: empty password on stdin\n')
  process.exit(2)
}
const existingPath = process.argv[2]
if (existingPath !== undefined) {
  let existing = null
  try { existing = readFileSync(existingPath, 'utf8').trim() } catch {}
  if (existing !== null && matches(existing, password)) {
    process.stdout.write(existing + '\n')
    process.exit(0)
  }
}
const salt = randomBytes(16)
const hash = scryptSync(password, salt, KEYLEN, { N, r: R, p: P })
process.stdout.write(`scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}\n`)
