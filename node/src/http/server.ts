import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo, Server as NetServer } from 'node:net'
import type { Duplex } from 'node:stream'
import type Koa from 'koa'

/** What the server needs from the relay: its 'upgrade' handler. */
export interface UpgradeHandler {
  handleUpgrade (req: IncomingMessage, socket: Duplex, head: Buffer): void
}

/** One HTTP port: the koa app for requests, the relay for WebSocket upgrades. */
export function createHttpServer (app: Koa, relay: UpgradeHandler): Server {
  const server = createServer(app.callback())
  // phones on bad Wi-Fi: do not hold sockets for half-sent requests forever
  server.headersTimeout = 20_000
  server.requestTimeout = 60_000
  server.keepAliveTimeout = 10_000
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    relay.handleUpgrade(req, socket, head)
  })
  return server
}

/** Listens and resolves with the bound address (port 0 picks a free port). */
export async function listen (server: NetServer, host: string, port: number): Promise<{ host: string, port: number }> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => { reject(err) }
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve()
    })
  })
  const addr = server.address() as AddressInfo
  return { host: addr.address, port: addr.port }
}

const CLOSE_GRACE_MS = 5000

/**
 * Stops accepting, drops idle keep-alive sockets, lets requests in flight finish (for at most
 * a few seconds) and waits for the server to close. Close the relay first: upgraded sockets are
 * not the server's to close. Idempotent.
 */
export async function closeHttpServer (server: Server): Promise<void> {
  if (!server.listening) return
  await new Promise<void>(resolve => {
    const force = setTimeout(() => { server.closeAllConnections() }, CLOSE_GRACE_MS)
    force.unref()
    server.close(() => {
      clearTimeout(force)
      resolve()
    })
    server.closeIdleConnections()
  })
}
