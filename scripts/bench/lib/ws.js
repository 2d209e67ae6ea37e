// NIP-01 client side over the `ws` package: pipelined EVENT publishing and REQ -> EOSE timing.
import { randomBytes } from 'node:crypto'
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
 * One masked client text frame (RFC 6455 5.2: FIN, opcode 1, MASK, payload length, a fresh
 * random 4-byte key, the XOR-masked payload), built ahead of time so the publisher's own CPU
 * is mostly the socket writes and reading the OKs, as on a phone that publishes a batch.
 */
export function clientTextFrame (text) {
  const payload = Buffer.from(text)
  const n = payload.length
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10
  const frame = Buffer.allocUnsafe(head + 4 + n)
  frame[0] = 0x81
  if (n < 126) {
    frame[1] = 0x80 | n
  } else if (n < 65536) {
    frame[1] = 0x80 | 126
    frame.writeUInt16BE(n, 2)
  } else {
    frame[1] = 0x80 | 127
    frame.writeBigUInt64BE(BigInt(n), 2)
  }
  const mask = randomBytes(4)
  mask.copy(frame, head)
  const off = head + 4
  for (let i = 0; i < n; i++) frame[off + i] = payload[i] ^ mask[i & 3]
  return frame
}

const OK_HEAD = Buffer.from('["OK","')

/**
 * A server OK frame `["OK","<64 hex id>",true|false,...]` read without JSON.parse when it has
 * that exact shape: { id, ok }; anything else is parsed as JSON and returned as { msg }.
 */
function readOk (data) {
  if (data.length > 76 && data.compare(OK_HEAD, 0, 7, 0, 7) === 0 && data[71] === 0x22 && data[72] === 0x2c) {
    const id = data.toString('latin1', 7, 71)
    if (data[73] === 0x74 && data.toString('latin1', 73, 79) === 'true,"') return { id, ok: true }
  }
  return { msg: JSON.parse(data.toString()) }
}

/**
 * Publishes event JSON lines with up to `window` EVENTs awaiting their OK. Every EVENT frame is
 * built before this is called (`prepareFrames`) and written straight to the socket; the frames
 * sent in one go leave in one TCP write, as a client publishing a batch does. Resolves with
 * { ok, rejected, messages (first few rejection reasons), latencies (ms per OK) }.
 */
export function publish (ws, lines, window = 64, frames = prepareFrames(lines)) {
  return new Promise((resolve, reject) => {
    const sentAt = new Map()
    const latencies = []
    const messages = new Set()
    const socket = ws._socket
    let next = 0
    let ok = 0
    let rejected = 0
    let pumping = false
    const pump = () => {
      pumping = false
      const start = next
      while (next < lines.length && sentAt.size < window) {
        sentAt.set(frames.ids[next], performance.now())
        next++
      }
      if (next > start) socket.write(next - start === 1 ? frames.frames[start] : Buffer.concat(frames.frames.slice(start, next)))
      if (sentAt.size === 0 && next >= lines.length) {
        ws.off('message', onMessage)
        ws.off('close', onClose)
        resolve({ ok, rejected, messages: [...messages], latencies })
      }
    }
    const settle = (id, accepted, reason) => {
      const t = sentAt.get(id)
      if (t === undefined) return
      sentAt.delete(id)
      latencies.push(performance.now() - t)
      if (accepted) ok++
      else { rejected++; if (messages.size < 5) messages.add(reason) }
    }
    const onMessage = data => {
      const r = readOk(data)
      if (r.msg === undefined) {
        settle(r.id, true, '')
      } else {
        const m = r.msg
        if (m[0] !== 'OK') { if (m[0] === 'NOTICE') messages.add(`NOTICE ${m[1]}`); return }
        settle(m[1], m[2] === true, m[3])
      }
      // the OKs read from one TCP chunk refill the window together, in one write
      if (!pumping) { pumping = true; queueMicrotask(pump) }
    }
    const onClose = () => reject(new Error('connection closed while publishing'))
    if (socket === undefined) return reject(new Error('publish: the WebSocket has no socket'))
    ws.on('message', onMessage)
    ws.once('close', onClose)
    pump()
  })
}

/** The EVENT frames of event JSON lines (each `{"id":"<64 hex>",...`) and their ids. */
export function prepareFrames (lines) {
  if (!lines.every(l => l.startsWith('{"id":"'))) throw new Error('event lines must start with {"id":"')
  return { ids: lines.map(l => l.slice(7, 71)), frames: lines.map(l => clientTextFrame(`["EVENT",${l}]`)) }
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
