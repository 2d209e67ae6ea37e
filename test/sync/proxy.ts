import net from 'node:net'
import type { Test } from 'tap'

export type ProxyMode = 'forward' | 'refuse' | 'blackhole'

/**
 * A loopback TCP proxy in front of a sync port, to cut the link between two nodes:
 * 'refuse' drops every connection (a partition), 'blackhole' keeps sockets open but
 * delivers nothing (a half-open link: a peer that vanished without a FIN).
 */
export async function createProxy (t: Test, target: number): Promise<{ port: number, set: (m: ProxyMode) => void }> {
  let mode: ProxyMode = 'forward'
  const sockets = new Set<net.Socket>()
  const track = (s: net.Socket): void => { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => {}) }
  const server = net.createServer(client => {
    track(client)
    if (mode === 'refuse') { client.destroy(); return }
    const upstream = net.connect(target, '127.0.0.1')
    track(upstream)
    const pipe = (from: net.Socket, to: net.Socket): void => {
      from.on('data', d => { if (mode === 'forward') to.write(d) })
      from.on('close', () => { if (mode !== 'blackhole') to.destroy() })
    }
    pipe(client, upstream)
    pipe(upstream, client)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    for (const s of sockets) s.destroy()
    await new Promise(resolve => server.close(resolve))
  })
  return {
    port: (server.address() as net.AddressInfo).port,
    set: m => {
      mode = m
      if (m === 'refuse') for (const s of sockets) s.destroy()
    }
  }
}
