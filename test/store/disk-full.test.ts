import t from 'tap'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { mkdir, rm } from 'node:fs/promises'
import { spawnNode, BIN, type NodeProcess } from '../helpers/node-process.js'
import { signer } from '../helpers/events.js'
import { smallDisk, MiB } from '../helpers/small-disk.js'
import { until } from '../sync/sync-helpers.js'
import { publish, fetchEvents, getJson } from '../sync/ws-client.js'
import type { NostrEvent } from '../../node/src/events/types.js'
import { AdminClient, textOf, writePasswordFile } from '../admin/admin-client.js'

// Real `outpost start` processes whose data directory is on a real small file system (tmpfs),
// filled by a filler file to just above or below the node's free-space reserve.

const FULL_LINE = 'disk full: free space is below the reserve'
const BACK_LINE = 'disk space is back'

async function health (port: number): Promise<{ status: number, body: any }> {
  const res = await fetch(`http://127.0.0.1:${port}/api/health`)
  return { status: res.status, body: await res.json() }
}

const count = (out: string, s: string): number => out.split('\n').filter(l => l.includes(s)).length

t.test('below the reserve: EVENTs refused with "error: ... storage is full", reads go on; space back: writes resume; a restart keeps every acknowledged event', async t => {
  const disk = await smallDisk(t, 48)
  const data = path.join(disk.dir, 'data')
  const args = ['--data', data, '--min-free-disk', '8M']
  const node = await spawnNode(t, args)
  const s = signer()
  const acked: NostrEvent[] = []
  const post = async (content: string): Promise<{ ok: boolean, message: string, event: NostrEvent }> => {
    const event = s.sign({ content })
    const r = await publish(node.port, event)
    if (r.ok) acked.push(event)
    return { ...r, event }
  }
  t.same((await post('before anything')).ok, true)

  // just above the reserve: still taken in
  await disk.leaveFree(8 * MiB + 6 * MiB)
  t.equal((await post('just above the reserve')).ok, true, 'accepted with 6 MiB above the reserve')
  t.equal((await health(node.port)).body.disk.full, false)

  // just below it: refused, plainly, before anything is written
  await disk.leaveFree(8 * MiB - MiB)
  await node.waitForOutput(FULL_LINE)
  const refused = await post('below the reserve')
  t.equal(refused.ok, false, 'refused below the reserve')
  t.match(refused.message, /^error: /, 'a standard NIP-01 prefix')
  t.match(refused.message, /storage is full/, 'says the storage is full')
  const h = await health(node.port)
  t.equal(h.status, 200, 'the node still serves: health stays 200')
  t.equal(h.body.disk.full, true)
  t.equal(h.body.disk.reserve, 8 * MiB)
  t.ok(h.body.disk.free < 8 * MiB, `health shows the free bytes (${h.body.disk.free as number})`)
  t.same((await fetchEvents(node.port, { authors: [s.pubkey] })).map(e => e.id).sort(), acked.map(e => e.id).sort(), 'REQs are answered')
  const page = await fetch(`http://127.0.0.1:${node.port}/`)
  t.equal(page.status, 200, 'the web client is served')
  t.equal(node.proc.exitCode, null, 'no crash')

  // a file deleted: writes resume by themselves
  await disk.freeAll()
  await node.waitForOutput(BACK_LINE)
  t.equal((await publish(node.port, refused.event)).ok, true, 'the refused event is taken once space is back')
  acked.push(refused.event)
  t.equal(count(node.output(), FULL_LINE), 1, 'one warning line going full')
  t.equal(count(node.output(), BACK_LINE), 1, 'one line when space is back')
  t.equal((await health(node.port)).body.disk.full, false)

  // a kill (no clean close) and a restart: every acknowledged event is there
  node.proc.kill('SIGKILL')
  await node.exited
  const again = await spawnNode(t, args)
  const ids = acked.map(e => e.id)
  t.same((await fetchEvents(again.port, { ids })).map(e => e.id).sort(), [...ids].sort(), `all ${ids.length} acknowledged events survived`)
})

/** The port of the node's latest "listening" line (an in-process restart listens anew). */
function lastPort (node: NodeProcess): number {
  let port = node.port
  for (const line of node.output().split('\n')) {
    if (!line.includes('outpost node listening')) continue
    try { port = (JSON.parse(line) as { port: number }).port } catch {}
  }
  return port
}

t.test('no reserve and the disk runs out anyway: the batch gets "error:", the process stays up and serves, reopens its storage once space is back; nothing acknowledged is lost', async t => {
  const disk = await smallDisk(t, 48)
  const data = path.join(disk.dir, 'data')
  const args = ['--data', data, '--min-free-disk', '0', '--admin-password-file', writePasswordFile(disk.dir, 'a long admin password')]
  const node = await spawnNode(t, args)
  const admin = new AdminClient(node.port)
  t.equal((await admin.login('a long admin password')).status, 303)
  const s = signer()
  const acked: string[] = []
  await disk.leaveFree(MiB)
  // 30 KB posts until the file system refuses one
  let refused: { message: string, event: NostrEvent } | null = null
  for (let i = 0; i < 200 && refused === null; i++) {
    const event = s.sign({ content: `${i} `.padEnd(30_000, 'x') })
    const r = await publish(node.port, event)
    if (r.ok) acked.push(event.id)
    else refused = { message: r.message, event }
  }
  t.ok(refused !== null, `the disk ran out after ${acked.length} posts`)
  t.match(refused?.message, /^error: .*storage is full/, 'the phone is told: error, storage full')
  await node.waitForOutput('disk full: a write failed for want of space')
  // later events are refused without touching the storage
  const later = s.sign({ content: 'while full' })
  t.match((await publish(node.port, later)).message, /^error: .*storage is full/)
  t.equal(node.proc.exitCode, null, 'the process stays up')
  const h = await health(node.port)
  t.equal(h.status, 200)
  t.equal(h.body.disk.full, true)
  t.type(h.body.disk.writeFailed, 'string', 'health says a write failed')
  // reads still work; a block made durable whose indexing then ran out of space was acknowledged
  // (it is in the log) and is indexed when the storage is reopened
  const read = await fetchEvents(node.port, { ids: acked })
  t.ok(read.length >= acked.length - 1 && read.length > 0, `reads still work (${read.length} of ${acked.length} readable before the reopen)`)

  // the admin sees it; a moderation change is refused plainly (nothing half-written)
  t.match(textOf((await admin.get('/admin')).body), /Storage is full .* new posts are refused and replication is paused/)
  await disk.leaveFree(0)
  const block = await admin.post('/admin/block', { pubkey: 'a'.repeat(64), csrf: await admin.csrf() })
  t.equal(block.status, 507, 'a moderation change on a full disk: 507')
  t.match(textOf(block.body), /storage is full: this change was not saved/)
  t.equal(node.proc.exitCode, null)

  // space back: the node reopens its storage in place (RocksDB refuses writes until reopened)
  await disk.freeAll()
  await node.waitForOutput('restarting the node in this process to reopen its storage')
  await until(() => count(node.output(), 'outpost node listening') === 2, 20_000, 'the node listening again')
  const port = lastPort(node)
  const times = (msg: string): number[] => node.output().split('\n').filter(l => l.includes(msg)).map(l => { try { return (JSON.parse(l) as { time: number }).time } catch { return NaN } })
  t.comment(`reopened in ${(times('outpost node listening')[1] ?? NaN) - (times('restarting the node in this process')[0] ?? NaN)} ms (close, open, catch-up, listen)`)
  t.equal((await publish(port, later)).ok, true, 'writes work again after the reopen')
  acked.push(later.id)
  const retried = await publish(port, refused?.event as NostrEvent)
  t.equal(retried.ok, true, `the refused event, sent again, is taken (${retried.message === '' ? 'stored' : retried.message})`)
  acked.push((refused?.event as NostrEvent).id)
  t.equal(node.proc.exitCode, null, 'same process')
  t.equal((await fetchEvents(port, { ids: acked })).length, acked.length, 'every acknowledged event is readable after the reopen')

  node.proc.kill('SIGTERM')
  t.equal(await node.exited, 0, 'closes cleanly')
  const again = await spawnNode(t, args)
  t.equal((await fetchEvents(again.port, { ids: acked })).length, acked.length, `all ${acked.length} acknowledged events are there after a restart`)
})

t.test('replication: a receiving node below its reserve pauses downloads (sessions stay up), and converges once space is freed', async t => {
  const disk = await smallDisk(t, 48)
  const work = path.join(disk.dir, '..', path.basename(disk.dir) + '-a')
  await mkdir(work)
  t.teardown(() => rm(work, { recursive: true, force: true }))
  execFileSync(process.execPath, [BIN, 'community', 'create', '--out', 'secret.json', '--name', 'Disk'], { cwd: work })
  const community = path.join(work, 'secret.json')
  const a = await spawnNode(t, ['--data', path.join(work, 'a'), '--community', community])
  const aSync = (await getJson(a.port, '/api/sync')).listen.port as number
  const b = await spawnNode(t, ['--data', path.join(disk.dir, 'b'), '--community', community, '--min-free-disk', '8M', '--peer', `127.0.0.1:${aSync}`])
  const s = signer()
  const first = s.sign({ content: 'before the disk filled' })
  t.equal((await publish(a.port, first)).ok, true)
  await until(async () => (await fetchEvents(b.port, { ids: [first.id] })).length === 1, 20_000, 'B has the first post')
  const fromB = s.sign({ content: 'written on B' })
  t.equal((await publish(b.port, fromB)).ok, true)
  const aLog = (await getJson(a.port, '/api/sync')).logs.find((l: { own: boolean }) => l.own).key as string
  const logOnB = async (): Promise<Record<string, any>> => (await getJson(b.port, '/api/sync')).logs.find((l: { key: string }) => l.key === aLog)

  await disk.leaveFree(8 * MiB - MiB)
  await b.waitForOutput(FULL_LINE)
  const later = Array.from({ length: 10 }, (_, i) => s.sign({ content: `while B is full ${i}` }))
  for (const e of later) t.equal((await publish(a.port, e)).ok, true)
  const aLength = (await getJson(a.port, '/api/sync')).logs.find((l: { own: boolean }) => l.own).length as number
  // B learns the new length from A (the session is up) but fetches none of the blocks
  await until(async () => (await logOnB())?.length === aLength, 20_000, 'B hears of A\'s new blocks')
  await new Promise(resolve => setTimeout(resolve, 1000)) // a negative check: give a download the time it would take
  const paused = await logOnB()
  t.equal(paused.fetching, 'paused (disk full)')
  t.ok(paused.lag > 0, `B holds back ${paused.lag as number} blocks`)
  t.equal((await fetchEvents(b.port, { authors: [s.pubkey] })).length, 2, 'none of the new posts reached B')
  const peers = (await getJson(b.port, '/api/sync')).peers as Array<{ connected: boolean }>
  t.ok(peers.length === 1 && peers[0]?.connected === true, 'the session with A stays up')
  t.equal(count(b.output(), FULL_LINE), 1, 'one warning line, no error storm')
  t.notMatch(b.output(), /"level":50/, 'no error logged on B')
  // B still serves what it holds: a node that comes now gets B's own post and A's first from B
  const bSync = (await getJson(b.port, '/api/sync')).listen.port as number
  const c = await spawnNode(t, ['--data', path.join(work, 'c'), '--community', community, '--peer', `127.0.0.1:${bSync}`])
  await until(async () => (await fetchEvents(c.port, { ids: [fromB.id, first.id] })).length === 2, 20_000, 'C gets B\'s logs from B')
  t.pass('a full node keeps serving its logs to peers')
  c.proc.kill('SIGTERM')
  await c.exited

  await disk.freeAll()
  await b.waitForOutput(BACK_LINE)
  await until(async () => (await fetchEvents(b.port, { authors: [s.pubkey] })).length === 12, 20_000, 'B converges')
  const done = await logOnB()
  t.equal(done.lag, 0, 'B caught up with A\'s log')
  t.equal(done.fetching, 'in order')
})
