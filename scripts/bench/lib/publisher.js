// Child process for the ingest bench: the WebSocket clients, kept out of the node's process
// (a phone is a separate process; in-process clients would steal the node's main thread).
// Protocol over IPC: parent sends { url, file, conns, window }; child connects, pre-builds
// every EVENT frame (masked WebSocket frames), replies { type: 'ready' }; parent sends { type: 'go' }; child publishes
// and replies { type: 'done', ms, results } and exits.
import { readFileSync } from 'node:fs'
import { connect, closeWs, prepareFrames, publish } from './ws.js'

function send (m) { return new Promise(resolve => { process.send(m, resolve) }) }

process.once('message', async ({ url, file, conns, window }) => {
  try {
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean)
    const sockets = await Promise.all(Array.from({ length: conns }, () => connect(url)))
    // round-robin shares, frames serialized before timing starts
    const shares = sockets.map((_, i) => lines.filter((_, j) => j % conns === i))
    const frames = shares.map(prepareFrames)
    send({ type: 'ready', events: lines.length })
    await new Promise(resolve => process.once('message', resolve))
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    const results = await Promise.all(sockets.map((ws, i) => publish(ws, shares[i], window, frames[i])))
    const ms = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    await Promise.all(sockets.map(closeWs))
    await send({ type: 'done', ms, cpu: (cpu.user + cpu.system) / 1000 / ms, results })
  } catch (err) {
    await send({ type: 'error', message: err.stack ?? String(err) })
  }
  process.disconnect()
})
