// NIP-01 client side over the `ws` package: pipelined EVENT publishing and REQ -> EOSE timing.
import WebSocket from 'ws'

export async function connect (url) {
  const ws = new WebSocket(url, { perMessageDeflate: false })
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  return ws
}

export async function closeWs (ws) {
  if (ws.readyState === WebSocket.CLOSED) return
  await new Promise(resolve => { ws.once('close', resolve); ws.close() })
}

/**
 * Publishes event JSON lines with up to `window` EVENTs awaiting their OK. Resolves with
 * { ok, rejected, messages (first few rejection reasons), latencies (ms per OK) }.
 */
export function publish (ws, lines, window = 64) {
  return new Promise((resolve, reject) => {
    const sentAt = new Map()
    const latencies = []
    const messages = new Set()
    let next = 0
    let ok = 0
    let rejected = 0
    const pump = () => {
      // the frames sent in one go leave in one TCP write, as a client publishing a batch does
      const socket = ws._socket
      socket?.cork()
      while (next < lines.length && sentAt.size < window) {
        const line = lines[next++]
        sentAt.set(line.slice(7, 71), performance.now()) // {"id":"<64 hex>" is how the cache writes them
        ws.send(`["EVENT",${line}]`)
      }
      socket?.uncork()
      if (sentAt.size === 0 && next >= lines.length) {
        ws.off('message', onMessage)
        ws.off('close', onClose)
        resolve({ ok, rejected, messages: [...messages], latencies })
      }
    }
    const onMessage = data => {
      const m = JSON.parse(data.toString())
      if (m[0] !== 'OK') { if (m[0] === 'NOTICE') messages.add(`NOTICE ${m[1]}`); return }
      const t = sentAt.get(m[1])
      if (t === undefined) return
      sentAt.delete(m[1])
      latencies.push(performance.now() - t)
      if (m[2] === true) ok++
      else { rejected++; if (messages.size < 5) messages.add(m[3]) }
      pump()
    }
    const onClose = () => reject(new Error('connection closed while publishing'))
    if (!lines.every(l => l.startsWith('{"id":"'))) return reject(new Error('event lines must start with {"id":"'))
    ws.on('message', onMessage)
    ws.once('close', onClose)
    pump()
  })
}

let subCounter = 0

/** Sends one REQ and resolves at EOSE with { ms, events }. The subscription is closed after. */
export function reqEose (ws, filters) {
  const sub = `b${++subCounter}`
  return new Promise((resolve, reject) => {
    let events = 0
    const t0 = performance.now()
    const onMessage = data => {
      const m = JSON.parse(data.toString())
      if (m[1] !== sub) return
      if (m[0] === 'EVENT') events++
      else if (m[0] === 'EOSE') { done(); ws.send(JSON.stringify(['CLOSE', sub])); resolve({ ms: performance.now() - t0, events }) }
      else if (m[0] === 'CLOSED') { done(); reject(new Error(`CLOSED: ${m[2]}`)) }
    }
    const done = () => ws.off('message', onMessage)
    ws.on('message', onMessage)
    ws.send(JSON.stringify(['REQ', sub, ...filters]))
  })
}
