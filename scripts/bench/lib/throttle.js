// A TCP proxy on loopback that limits each direction of every connection to a byte rate (a
// token bucket refilled every 10 ms): a thin uplink for benches, in user space.
import net from 'node:net'

const TICK_MS = 10

function pump (from, to, bytesPerSec) {
  const perTick = Math.max(1, Math.round(bytesPerSec * TICK_MS / 1000))
  const queue = []
  let queued = 0
  let tokens = perTick
  const timer = setInterval(() => {
    tokens = Math.min(tokens + perTick, perTick * 2)
    while (queue.length > 0 && tokens > 0) {
      const head = queue[0]
      const n = Math.min(head.length, tokens)
      to.write(head.subarray(0, n))
      tokens -= n
      queued -= n
      if (n === head.length) queue.shift()
      else queue[0] = head.subarray(n)
    }
    if (queued < perTick * 8 && from.isPaused()) from.resume()
  }, TICK_MS)
  from.on('data', d => {
    queue.push(d)
    queued += d.length
    if (queued > perTick * 16) from.pause()
  })
  const stop = () => { clearInterval(timer); to.destroy() }
  from.on('close', stop)
  from.on('error', stop)
  return () => clearInterval(timer)
}

/** Listens on 127.0.0.1 and forwards to `port` at `bytesPerSec` each way; bytes counted. */
export async function throttledProxy (port, bytesPerSec) {
  const sockets = new Set()
  const stats = { toClient: 0 }
  const server = net.createServer(client => {
    const upstream = net.connect(port, '127.0.0.1')
    for (const s of [client, upstream]) { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => {}) }
    upstream.on('data', d => { stats.toClient += d.length })
    pump(client, upstream, bytesPerSec)
    pump(upstream, client, bytesPerSec)
  })
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: server.address().port,
    stats,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise(resolve => server.close(resolve))
    }
  }
}
