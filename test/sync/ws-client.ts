import { WebSocket } from 'ws'
import type { NostrEvent } from '../../node/src/events/types.js'

/** Publishes over NIP-01 and resolves with the OK message. */
export async function publish (port: number, e: NostrEvent): Promise<{ ok: boolean, message: string }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`)
  try {
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    return await new Promise((resolve, reject) => {
      ws.on('message', (d: Buffer) => {
        const m = JSON.parse(d.toString()) as unknown[]
        if (m[0] === 'OK' && m[1] === e.id) resolve({ ok: m[2] === true, message: String(m[3]) })
      })
      ws.once('error', reject)
      ws.send(JSON.stringify(['EVENT', e]))
    })
  } finally {
    ws.close()
  }
}

/** Stored events matching the filter (REQ until EOSE). */
export async function fetchEvents (port: number, filter: Record<string, unknown>): Promise<NostrEvent[]> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`)
  try {
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    return await new Promise((resolve, reject) => {
      const out: NostrEvent[] = []
      ws.on('message', (d: Buffer) => {
        const m = JSON.parse(d.toString()) as unknown[]
        if (m[0] === 'EVENT' && m[1] === 'q') out.push(m[2] as NostrEvent)
        if (m[0] === 'EOSE') resolve(out)
      })
      ws.once('error', reject)
      ws.send(JSON.stringify(['REQ', 'q', filter]))
    })
  } finally {
    ws.close()
  }
}

export async function getJson (port: number, route: string): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${port}${route}`)
  return await res.json()
}
