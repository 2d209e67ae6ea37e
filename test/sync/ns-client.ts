// A Nostr/HTTP client run inside a network namespace (the test process cannot reach namespace
// addresses): each call is one short node process that prints one JSON line and exits.
import path from 'node:path'
import type { Lab, NsProcess } from '../helpers/netns.js'
import { BIN, ROOT } from '../helpers/node-process.js'
import type { NostrEvent } from '../../node/src/events/types.js'

const CLIENT = `
const [json] = process.argv.slice(1)
const { WebSocket } = await import('ws')
const { op, base, events, filter, count, timeoutMs, route } = JSON.parse(json)
const out = o => process.stdout.write(JSON.stringify(o) + '\\n')
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
const open = () => new Promise((resolve, reject) => {
  const ws = new WebSocket(base.replace(/^http/, 'ws'))
  ws.once('open', () => resolve(ws))
  ws.once('error', reject)
})
const request = (ws, id, frame, done) => new Promise((resolve, reject) => {
  const got = []
  const on = d => {
    const m = JSON.parse(d.toString())
    const r = done(m, got)
    if (r !== undefined) { ws.off('message', on); resolve(r) }
  }
  ws.on('message', on)
  ws.once('close', () => reject(new Error('closed')))
  ws.send(JSON.stringify(frame))
})
if (op === 'publish') {
  const ws = await open()
  const results = []
  for (const e of events) {
    results.push(await request(ws, e.id, ['EVENT', e], m => m[0] === 'OK' && m[1] === e.id ? { ok: m[2], message: m[3] } : undefined))
  }
  ws.close()
  out({ results })
} else if (op === 'query') {
  // REQ again every 200 ms until at least count events match or the time is up
  const t0 = Date.now()
  const ws = await open()
  let ids = []
  for (let n = 0; ; n++) {
    const sub = 'q' + n
    ids = await request(ws, sub, ['REQ', sub, filter], (m, got) => {
      if (m[0] === 'EVENT' && m[1] === sub) got.push(m[2].id)
      return m[0] === 'EOSE' && m[1] === sub ? got : undefined
    })
    ws.send(JSON.stringify(['CLOSE', sub]))
    if (ids.length >= count || Date.now() - t0 > timeoutMs) break
    await sleep(200)
  }
  ws.close()
  out({ ids, ms: Date.now() - t0 })
} else if (op === 'get') {
  const res = await fetch(base + route)
  out({ status: res.status, body: await res.json() })
}
`

async function run<T> (lab: Lab, ns: string, args: Record<string, unknown>): Promise<T> {
  const p = lab.spawn(ns, process.execPath, ['--input-type=module', '-e', CLIENT, JSON.stringify(args)], { cwd: ROOT })
  const code = await p.exited
  const line = p.json()[0]
  if (code !== 0 || line === undefined) throw new Error(`namespace client ${String(args.op)} failed (${code}):\n${p.output()}`)
  return line as T
}

/** Publishes the events in order over one connection; resolves with each OK. */
export async function nsPublish (lab: Lab, ns: string, base: string, events: NostrEvent[]): Promise<Array<{ ok: boolean, message: string }>> {
  return (await run<{ results: Array<{ ok: boolean, message: string }> }>(lab, ns, { op: 'publish', base, events })).results
}

/** Ids of stored events matching `filter`, polled until there are `count` or `timeoutMs` passed. */
export async function nsQuery (lab: Lab, ns: string, base: string, filter: Record<string, unknown>, count: number, timeoutMs: number): Promise<{ ids: string[], ms: number }> {
  return await run(lab, ns, { op: 'query', base, filter, count, timeoutMs })
}

export async function nsGetJson (lab: Lab, ns: string, base: string, route: string): Promise<any> {
  const r = await run<{ status: number, body: unknown }>(lab, ns, { op: 'get', base, route })
  if (r.status !== 200) throw new Error(`GET ${route}: ${r.status}`)
  return r.body
}

export const HTTP = 8080
export const SYNC = 7707

/** `outpost start` in namespace `ns`, HTTP on `addr`:8080, sync on 7707; resolves once listening. */
export async function startNode (lab: Lab, ns: string, addr: string, dir: string, name: string, community: string, extra: string[] = ['--lan']): Promise<NsProcess> {
  const args = [BIN, 'start', '--host', addr, '--port', String(HTTP), '--sync-port', String(SYNC), '--no-log-pretty', '--swarm', 'off',
    '--name', name, '--data', path.join(dir, name), '--community', community, ...extra]
  const p = lab.spawn(ns, process.execPath, args, { cwd: ROOT })
  await p.waitFor(line => line.includes('outpost node listening'), 30_000)
  return p
}

export const base = (addr: string): string => `http://${addr}:${HTTP}`
