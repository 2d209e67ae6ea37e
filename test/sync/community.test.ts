import t, { type Test } from 'tap'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createCommunity, decodeCommunity, encodeCommunity, publicPart, readCommunityFile, resolveCommunity, writeCommunityFile } from '../../node/src/sync/community.js'
import { admitNode, decodeAdmission, encodeAdmission, signLog, verifyAdmission, verifyEntry } from '../../node/src/sync/admission.js'
import { loadIdentity } from '../../node/src/sync/identity.js'
import { discoveryId, swarmTopic, channelId } from '../../node/src/sync/protocol.js'
import { main } from '../../node/src/cli/main.js'
import crypto from 'hypercore-crypto'

async function tmp (t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-test-community-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

t.test('the secret file is 0600, the public part has no secret and round-trips', async t => {
  const dir = await tmp(t)
  const c = createCommunity({ name: 'Fest', open: false })
  await writeCommunityFile(path.join(dir, 's.json'), c)
  t.equal((await stat(path.join(dir, 's.json'))).mode & 0o777, 0o600)
  await writeCommunityFile(path.join(dir, 'p.json'), publicPart(c))
  const text = await readFile(path.join(dir, 'p.json'), 'utf8')
  t.notMatch(text, /secret/i)
  t.notMatch(text, c.secretKey?.toString('hex') ?? 'x')
  const back = await readCommunityFile(path.join(dir, 'p.json'))
  t.ok(back.publicKey.equals(c.publicKey))
  t.equal(back.secretKey, null)
  t.equal(back.name, 'Fest')
  t.same(decodeCommunity(encodeCommunity(c)).secretKey, c.secretKey)
})

t.test('bad community files get clear errors', async t => {
  t.throws(() => decodeCommunity('nope'), /not JSON/)
  t.throws(() => decodeCommunity('{"type":"x"}'), /not an Outpost community file/)
  t.throws(() => decodeCommunity(JSON.stringify({ type: 'outpost-community', version: 2 })), /unsupported version 2/)
  const c = createCommunity()
  const other = createCommunity()
  const v = JSON.parse(encodeCommunity(c)) as Record<string, unknown>
  v['secretKey'] = other.secretKey?.toString('hex')
  t.throws(() => decodeCommunity(JSON.stringify(v)), /does not belong to publicKey/)
  await t.rejects(readCommunityFile('/nonexistent/x.json'), /cannot read community file/)
})

t.test('discovery id, swarm topic and channel id are distinct hashes, never the key', async t => {
  const c = createCommunity()
  const hex = c.publicKey.toString('hex')
  const ids = [discoveryId(c.publicKey), swarmTopic(c.publicKey).toString('hex'), channelId(c.publicKey).toString('hex')]
  t.equal(new Set([...ids, hex]).size, 4)
  t.equal(swarmTopic(c.publicKey).length, 32)
  t.equal(discoveryId(c.publicKey), discoveryId(Buffer.from(hex, 'hex')), 'deterministic')
})

t.test('admission chain: community admits a node, the node certifies its logs', async t => {
  const c = createCommunity()
  const node = crypto.keyPair()
  const log = crypto.randomBytes(32)
  const admission = admitNode(c, node.publicKey)
  t.ok(verifyAdmission(c, node.publicKey, admission))
  t.notOk(verifyAdmission(c, crypto.keyPair().publicKey, admission), 'a certificate does not admit another node')
  t.notOk(verifyAdmission(createCommunity(), node.publicKey, admission), 'nor into another community')
  t.notOk(verifyAdmission(c, node.publicKey, null))
  const entry = { log, node: node.publicKey, admission, logSig: signLog(c, log, node.secretKey) }
  t.ok(verifyEntry(c, entry))
  t.notOk(verifyEntry(c, { ...entry, log: crypto.randomBytes(32) }), 'a log signature does not cover another log')
  const stranger = crypto.keyPair()
  t.notOk(verifyEntry(c, { log, node: stranger.publicKey, admission: Buffer.alloc(0), logSig: signLog(c, log, stranger.secretKey) }), 'an unadmitted node cannot certify logs')
  const open = createCommunity({ open: true })
  t.ok(verifyEntry(open, { log, node: stranger.publicKey, admission: Buffer.alloc(0), logSig: signLog(open, log, stranger.secretKey) }), 'an open community admits any log')
  t.throws(() => admitNode(publicPart(c), node.publicKey), /no secret key/)
  const file = encodeAdmission({ community: c.publicKey, node: node.publicKey, signature: admission })
  t.ok(decodeAdmission(file).signature.equals(admission))
  t.throws(() => decodeAdmission('{"type":"outpost-admission","version":1,"node":"zz"}'), /64 hex/)
})

t.test('a node without --community makes a private community once, and a key (0600)', async t => {
  const dir = await tmp(t)
  const a = await resolveCommunity(null, dir)
  const b = await resolveCommunity(null, dir)
  t.equal(a.source, 'private')
  t.ok(a.community.publicKey.equals(b.community.publicKey), 'the same community on the next start')
  t.not(a.community.secretKey, null)
  t.equal((await stat(path.join(dir, 'community.json'))).mode & 0o777, 0o600)
  const other = await resolveCommunity(null, await tmp(t))
  t.notOk(other.community.publicKey.equals(a.community.publicKey), 'two strangers never share one')
  const k1 = await loadIdentity(dir, { create: true })
  const k2 = await loadIdentity(dir)
  t.ok(k1?.publicKey.equals(k2?.publicKey as Buffer))
  t.equal((await stat(path.join(dir, 'node-key.json'))).mode & 0o777, 0o600)
  await writeFile(path.join(dir, 'node-key.json'), '{"version":1}')
  await t.rejects(loadIdentity(dir), /node-key.json is unreadable/)
  const byKey = await resolveCommunity(a.community.publicKey.toString('hex'), dir)
  t.equal(byKey.source, 'key')
  t.equal(byKey.community.secretKey, null)
})

async function cli (argv: string[], cwd: string): Promise<{ code: number, out: string, err: string }> {
  let out = ''
  let err = ''
  const code = await main(argv, {}, { stdout: { write: (s: string) => { out += s } }, stderr: { write: (s: string) => { err += s } }, cwd, isTTY: false })
  return { code, out, err }
}

t.test('outpost community: create, show --public, request, admit, install', async t => {
  const cwd = await tmp(t)
  let r = await cli(['community', 'create', '--out', 'c.json', '--name', 'Camp'], cwd)
  t.equal(r.code, 0, r.err)
  t.match(r.out, /closed community "Camp"/)
  t.equal((await stat(path.join(cwd, 'c.json'))).mode & 0o777, 0o600)
  r = await cli(['community', 'create', '--out', 'c.json'], cwd)
  t.equal(r.code, 2, 'never overwrites a community')
  t.match(r.err, /exists/)
  r = await cli(['community', 'show', '--community', 'c.json', '--public', '--out', 'pub.json'], cwd)
  t.equal(r.code, 0, r.err)
  const pub = await readCommunityFile(path.join(cwd, 'pub.json'))
  t.equal(pub.secretKey, null)
  r = await cli(['community', 'request', '--data', 'node1'], cwd)
  t.equal(r.code, 0, r.err)
  const key = r.out.split('\n')[0] as string
  t.match(key, /^[0-9a-f]{64}$/)
  r = await cli(['community', 'admit', '--community', 'pub.json', '--node', key], cwd)
  t.equal(r.code, 1, 'the public file cannot admit')
  t.match(r.err, /no secret key/)
  r = await cli(['community', 'admit', '--community', 'c.json', '--node', key, '--out', 'cert.json'], cwd)
  t.equal(r.code, 0, r.err)
  r = await cli(['community', 'install', '--data', 'node1', 'cert.json'], cwd)
  t.equal(r.code, 0, r.err)
  const cert = decodeAdmission(await readFile(path.join(cwd, 'node1', 'admission.json'), 'utf8'))
  t.ok(verifyAdmission(pub, Buffer.from(key, 'hex'), cert.signature))
  r = await cli(['community', 'install', '--data', 'node2', 'cert.json'], cwd)
  t.equal(r.code, 1, 'a certificate for another node is refused')
  r = await cli(['community', 'admit', '--community', 'c.json', '--node', 'xyz'], cwd)
  t.equal(r.code, 2)
  t.match(r.err, /64 hex/)
  r = await cli(['community', 'frob'], cwd)
  t.equal(r.code, 2)
  r = await cli(['community', 'create', '--bogus'], cwd)
  t.equal(r.code, 2)
  t.match(r.err, /unknown option --bogus/)
  r = await cli(['help', 'community'], cwd)
  t.match(r.out, /outpost community <subcommand>/)
})
