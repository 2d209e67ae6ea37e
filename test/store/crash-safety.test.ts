import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import WebSocket from 'ws'
import { signer } from '../helpers/events.js'
import { spawnNode } from '../helpers/node-process.js'
import type { NostrEvent } from '../../node/src/events/types.js'

const ROUNDS = 4
const PER_ROUND = 150
const UNTHROTTLED = ['--messages-per-second', '100000', '--events-per-minute-per-ip', '1000000']

/** Publishes with a window of requests in flight; resolves with the ids that got OK true before the socket died. */
async function publishUntilKilled (port: number, events: NostrEvent[], killAfter: number, kill: () => void): Promise<Set<string>> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`)
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  const acked = new Set<string>()
  let next = 0
  let killed = false
  const send = (): void => {
    if (next < events.length && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(['EVENT', events[next++]]))
  }
  let answered = 0
  return await new Promise(resolve => {
    ws.on('message', raw => {
      const msg = JSON.parse(raw.toString()) as unknown[]
      if (msg[0] !== 'OK') return
      answered++
      if (msg[2] === true) acked.add(msg[1] as string)
      if (!killed && (acked.size >= killAfter || answered === events.length)) { killed = true; kill() }
      send()
    })
    ws.on('error', () => {})
    ws.on('close', () => resolve(acked))
    for (let i = 0; i < 16; i++) send()
  })
}

async function fetchIds (port: number, ids: string[]): Promise<Set<string>> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`)
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  const found = new Set<string>()
  for (let i = 0; i < ids.length; i += 400) {
    const chunk = ids.slice(i, i + 400)
    await new Promise<void>(resolve => {
      const onMsg = (raw: WebSocket.RawData): void => {
        const msg = JSON.parse(raw.toString()) as [string, string, NostrEvent]
        if (msg[0] === 'EVENT') found.add(msg[2].id)
        if (msg[0] === 'EOSE' || msg[0] === 'CLOSED') { ws.off('message', onMsg); resolve() }
      }
      ws.on('message', onMsg)
      ws.send(JSON.stringify(['REQ', 'q', { ids: chunk, limit: chunk.length }]))
    })
  }
  ws.close()
  return found
}

t.test('SIGKILL during a stream of publishes loses no acknowledged event', async t => {
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-crash-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const alice = signer()
  const all = Array.from({ length: ROUNDS * PER_ROUND }, (_, i) => alice.sign({ content: `note ${i}`, created_at: 1_700_000_000 + i, tags: [['t', 'crash']] }))
  const acked: string[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const node = await spawnNode(t, ['--data', dir, ...UNTHROTTLED])
    if (round > 0) {
      const found = await fetchIds(node.port, acked)
      t.equal(found.size, acked.length, `round ${round}: all ${acked.length} acknowledged events are there after the kill`)
    }
    const batch = all.slice(round * PER_ROUND, (round + 1) * PER_ROUND)
    const killAfter = 20 + Math.floor(Math.random() * (PER_ROUND - 40))
    const got = await publishUntilKilled(node.port, batch, killAfter, () => node.proc.kill('SIGKILL'))
    t.ok(got.size >= killAfter, `round ${round}: killed after ${got.size} OKs`)
    acked.push(...got)
    await node.exited
  }
  const node = await spawnNode(t, ['--data', dir, ...UNTHROTTLED])
  const found = await fetchIds(node.port, acked)
  t.equal(found.size, acked.length, 'every acknowledged event survived every kill')
  const health = await (await fetch(`http://127.0.0.1:${node.port}/api/health`)).json() as { ok: boolean, events: number }
  t.equal(health.ok, true)
  t.ok(health.events >= acked.length, 'health counts them')
  node.proc.kill('SIGTERM')
  t.equal(await node.exited, 0, 'a clean stop after recovery')
})

t.test('a second node on the same data dir refuses with a clear error', async t => {
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-lock-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const first = await spawnNode(t, ['--data', dir, ...UNTHROTTLED])
  const second = await spawnNode(t, ['--data', dir, ...UNTHROTTLED]).then(() => null, (err: Error) => err)
  t.ok(second !== null, 'the second node did not start')
  t.match(second?.message ?? '', /in use by another Outpost node \(pid \d+\)/)
  t.match(second?.message ?? '', /exited with 1/)
  const health = await fetch(`http://127.0.0.1:${first.port}/api/health`)
  t.equal(health.status, 200, 'the first node is unharmed')
})
