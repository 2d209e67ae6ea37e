import t from 'tap'
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { loadNativeAddon, loadVerifier, verifyEventSignature } from '../../node/src/events/verify.js'
import type { SignatureVerifier } from '../../node/src/events/verify.js'
import { VerifyPool } from '../../node/src/events/verify-pool.js'
import type { NostrEvent } from '../../node/src/events/types.js'

const keys = Array.from({ length: 4 }, () => generateSecretKey())
const mk = (i: number): NostrEvent => finalizeEvent({
  kind: 1,
  created_at: 1_700_000_000 + i,
  tags: [['t', `n${i}`]],
  content: `hello outpost ${i}`
}, keys[i % keys.length] as Uint8Array) as NostrEvent

const flipHex = (h: string, at: number): string => h.slice(0, at) + (h[at] === '0' ? '1' : '0') + h.slice(at + 1)

// x = 5 is not the x coordinate of any secp256k1 point (5^3 + 7 = 132 is a non-residue mod p).
const OFF_CURVE = '0'.repeat(63) + '5'
const ABOVE_P = 'f'.repeat(64) // x >= field size p

const good = mk(0)
const other = mk(1)
const cases: Array<{ name: string, e: NostrEvent, want: 'ok' | 'bad-id' | 'bad-sig' }> = [
  { name: 'valid', e: good, want: 'ok' },
  { name: 'tampered content', e: { ...good, content: good.content + '!' }, want: 'bad-id' },
  { name: 'tampered sig', e: { ...good, sig: flipHex(good.sig, 100) }, want: 'bad-sig' },
  { name: 'sig from another event', e: { ...good, sig: other.sig }, want: 'bad-sig' }
]
// Raw (id, pubkey, sig) triples where only the signature check is exercised.
const raw: Array<{ name: string, id: string, pubkey: string, sig: string, want: boolean }> = [
  { name: 'valid', id: good.id, pubkey: good.pubkey, sig: good.sig, want: true },
  { name: 'wrong pubkey', id: good.id, pubkey: other.pubkey === good.pubkey ? mk(2).pubkey : other.pubkey, sig: good.sig, want: false },
  { name: 'pubkey not on curve', id: good.id, pubkey: OFF_CURVE, sig: good.sig, want: false },
  { name: 'pubkey >= p', id: good.id, pubkey: ABOVE_P, sig: good.sig, want: false },
  { name: 'zero pubkey', id: good.id, pubkey: '0'.repeat(64), sig: good.sig, want: false },
  { name: 'tampered id', id: flipHex(good.id, 3), pubkey: good.pubkey, sig: good.sig, want: false },
  { name: 'sig r >= p', id: good.id, pubkey: good.pubkey, sig: 'f'.repeat(64) + good.sig.slice(64), want: false },
  { name: 'garbage hex id', id: 'zz' + good.id.slice(2), pubkey: good.pubkey, sig: good.sig, want: false },
  { name: 'garbage hex at end of sig', id: good.id, pubkey: good.pubkey, sig: good.sig.slice(0, 126) + 'g0', want: false },
  { name: 'short id', id: good.id.slice(2), pubkey: good.pubkey, sig: good.sig, want: false },
  { name: 'long sig', id: good.id, pubkey: good.pubkey, sig: good.sig + '00', want: false },
  { name: 'odd-length pubkey', id: good.id, pubkey: good.pubkey.slice(1), sig: good.sig, want: false },
  { name: 'empty strings', id: '', pubkey: '', sig: '', want: false },
  { name: 'non-string', id: 42 as unknown as string, pubkey: null as unknown as string, sig: {} as unknown as string, want: false }
]

const nativeBuilt = loadNativeAddon().addon !== null
const backends: SignatureVerifier[] = [loadVerifier({ forceJs: true })]
if (nativeBuilt) backends.push(loadVerifier())

t.test('backend selection', async t => {
  t.equal(loadVerifier({ forceJs: true }).backend, 'js', 'forceJs gives the js backend')
  const warnings: unknown[] = []
  const v = loadVerifier({ log: { warn: (...a: unknown[]) => { warnings.push(a) } } })
  if (nativeBuilt) {
    t.equal(v.backend, 'native')
    t.same(warnings, [], 'no warning when native loads')
  } else {
    t.equal(v.backend, 'js')
    t.equal(warnings.length, 1, 'fallback is logged')
  }
  if (process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false') {
    t.equal(v.backend, 'native', 'CI installs libsecp256k1-dev, so the native verifier must load')
  }
})

for (const v of backends) {
  t.test(`${v.backend}: verifyEventSignature`, async t => {
    for (const c of cases) t.equal(verifyEventSignature(v, c.e), c.want, c.name)
    for (let i = 0; i < 8; i++) t.equal(verifyEventSignature(v, mk(i)), 'ok', `fresh event ${i}`)
  })

  t.test(`${v.backend}: verify`, async t => {
    for (const c of raw) t.equal(v.verify(c.id, c.pubkey, c.sig), c.want, c.name)
  })

  t.test(`${v.backend}: verifyMany agrees with verify`, async t => {
    const items = [...raw, ...raw.slice().reverse()]
    const many = v.verifyMany(items)
    t.same(many, items.map(c => v.verify(c.id, c.pubkey, c.sig)))
    t.same(many, items.map(c => c.want))
    t.same(v.verifyMany([]), [])
  })

  t.test(`${v.backend}: verifyPacked validates its arguments`, async t => {
    t.throws(() => v.verifyPacked(new Uint8Array(100), 1), TypeError)
    t.same([...v.verifyPacked(new Uint8Array(128), 1)], [0])
  })
}

t.test('both backends agree', { skip: !nativeBuilt && 'native addon not built' }, async t => {
  const [js, native] = backends as [SignatureVerifier, SignatureVerifier]
  const items = raw.concat(Array.from({ length: 20 }, (_, i) => {
    const e = mk(i + 10)
    return { name: `ev${i}`, id: e.id, pubkey: e.pubkey, sig: i % 3 === 0 ? flipHex(e.sig, i) : e.sig, want: i % 3 !== 0 }
  }))
  t.same(native.verifyMany(items), js.verifyMany(items))
  t.same(native.verifyMany(items), items.map(c => c.want))
})

t.test('native addon argument checks', { skip: !nativeBuilt && 'native addon not built' }, async t => {
  const a = loadNativeAddon().addon
  if (a === null) return
  const b32 = Buffer.alloc(32)
  const b64 = Buffer.alloc(64)
  const call = (f: Function, ...args: unknown[]): unknown => f(...args)
  t.throws(() => call(a.verify), TypeError)
  t.throws(() => call(a.verify, b32, b32, 'x'.repeat(64)), TypeError)
  t.throws(() => call(a.verify, b32, Buffer.alloc(33), b64), TypeError)
  t.throws(() => call(a.verify, b32, b32, Buffer.alloc(63)), TypeError)
  t.throws(() => call(a.verifyBatch, Buffer.alloc(127), 1), TypeError)
  t.throws(() => call(a.verifyBatch, Buffer.alloc(128), -1), TypeError)
  t.throws(() => call(a.verifyBatch, Buffer.alloc(128), '1'), TypeError)
  t.equal(a.verify(b32, b32, b64), false, 'zero pubkey is invalid, not a crash')
  t.equal(a.verify(b32, Buffer.alloc(32, 0xff), b64), false)
  t.same([...a.verifyBatch(Buffer.alloc(0), 0)], [])
  // sign() round-trips with the verifiers (the bench uses it to make events fast).
  const sk = keys[0] as Uint8Array
  const sig = a.sign(Buffer.from(good.id, 'hex'), sk)
  for (const v of backends) t.equal(v.verify(good.id, good.pubkey, sig.toString('hex')), true, `${v.backend} accepts native sign`)
})

t.test('VerifyPool spreads a mixed batch over workers, results in order', async t => {
  const base = Array.from({ length: 40 }, (_, i) => mk(i))
  const items: Array<{ id: string, pubkey: string, sig: string }> = []
  const want: boolean[] = []
  for (let i = 0; i < 2000; i++) {
    const e = base[i % base.length] as NostrEvent
    switch (i % 5) {
      case 0: items.push({ id: e.id, pubkey: e.pubkey, sig: flipHex(e.sig, i % 128) }); want.push(false); break
      case 1: items.push({ id: e.id, pubkey: OFF_CURVE, sig: e.sig }); want.push(false); break
      case 2: items.push({ id: 'xyz', pubkey: e.pubkey, sig: e.sig }); want.push(false); break
      default: items.push({ id: e.id, pubkey: e.pubkey, sig: e.sig }); want.push(true)
    }
  }
  const pool = new VerifyPool({ threads: 2, maxChunk: 300 })
  t.teardown(() => pool.close())
  const got = await pool.verifyMany(items)
  t.equal(got.length, items.length)
  t.same(got, want)
  t.same(await pool.verifyMany(items.slice(0, 5)), want.slice(0, 5), 'small batch (inline path)')
  t.same(await pool.verifyMany([]), [])
  const [a, b] = await Promise.all([pool.verifyMany(items.slice(0, 777)), pool.verifyMany(items.slice(777))])
  t.same([...a, ...b], want, 'concurrent batches')
})

t.test('VerifyPool runs real workers, survives a worker crash, closes idempotently', { timeout: 30_000 }, async t => {
  // The real worker entry, plus a trap that kills the thread when a 3-record chunk arrives.
  const entry = new URL('../../node/src/events/verify-worker.ts', import.meta.url)
  // Wraps the real entry's message listener (an extra early listener would swallow jobs while it loads).
  const src = `import { parentPort } from 'node:worker_threads'
const on = parentPort.on.bind(parentPort)
parentPort.on = (ev, fn) => on(ev, ev === 'message' ? m => { if (m.n === 3) throw new Error('boom'); fn(m) } : fn)
await import(${JSON.stringify(entry.href)})`
  const warnings: unknown[] = []
  const pool = new VerifyPool({
    threads: 2,
    inlineBelow: 1,
    workerUrl: new URL('data:text/javascript,' + encodeURIComponent(src)),
    log: { warn: (...a: unknown[]) => { warnings.push(a) } }
  })
  t.teardown(() => pool.close())
  const e = mk(0)
  const item = { id: e.id, pubkey: e.pubkey, sig: e.sig }
  t.same(await pool.verifyMany([item, { ...item, sig: other.sig }]), [true, false])
  const before = pool.threadIds
  t.equal(before.length, 2, 'two worker threads started')
  t.notOk(before.includes(0), 'ids are worker threads, not the main thread')

  // 2 threads: 5 records split 3 + 2, so exactly one worker gets the trap.
  await t.rejects(pool.verifyMany(Array(5).fill(item)), /signature verify worker crashed: boom/)
  t.equal(warnings.filter(w => /crashed/.test(JSON.stringify(w))).length, 1, 'crash is logged')
  t.equal(pool.threadIds.length, 1, 'crashed worker dropped')
  t.same(await pool.verifyMany(Array(40).fill(item)), Array(40).fill(true), 'pool recovers')
  t.equal(pool.threadIds.length, 2, 'crashed worker replaced')
  t.not(pool.threadIds.join(), before.join())

  const pending = pool.verifyMany(Array(4000).fill(item))
  const c1 = pool.close()
  const c2 = pool.close()
  t.equal(c1, c2, 'close is idempotent')
  await t.rejects(pending, /VerifyPool closed/)
  await c1
  await t.rejects(pool.verifyMany([item]), /VerifyPool is closed/)
  t.same(pool.threadIds, [])
})

t.test('an idle pool does not keep the process alive', { timeout: 60_000 }, async t => {
  const { spawnSync } = await import('node:child_process')
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const poolUrl = new URL('../../node/src/events/verify-pool.ts', import.meta.url).href
  const e = mk(0)
  const script = `const { VerifyPool } = await import(${JSON.stringify(poolUrl)})
const pool = new VerifyPool({ threads: 2 })
const r = await pool.verifyMany(Array(100).fill(${JSON.stringify({ id: e.id, pubkey: e.pubkey, sig: e.sig })}))
console.log(r.every(Boolean) ? 'ok' : 'bad')`
  const dir = mkdtempSync(join(tmpdir(), 'outpost-verify-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const file = join(dir, 'idle-pool.mjs')
  writeFileSync(file, script)
  // Same loader flags as this test process, so the .ts modules load in the child too.
  const r = spawnSync(process.execPath, [...process.execArgv, file], { encoding: 'utf8', timeout: 60_000 })
  t.equal(r.stdout.trim(), 'ok', r.stderr)
  t.equal(r.status, 0, 'exited on its own without close()')
})
