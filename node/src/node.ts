import path from 'node:path'
import type { Server } from 'node:http'
import type { Logger } from 'pino'
import type { Config } from './config/types.js'
import { Store } from './store/store.js'
import { RelayServer } from './relay/relay-server.js'
import { buildNip11 } from './relay/nip11.js'
import { createHttpApp, createHttpServer, listen, closeHttpServer } from './http/app.js'
import { packageVersion } from './cli/version.js'
import { packageRoot } from './paths.js'
import { startSync } from './sync/start-sync.js'
import type { SyncManager } from './sync/sync-manager.js'

export interface OutpostNode {
  readonly config: Config
  readonly store: Store
  readonly sync: SyncManager
  readonly address: { host: string, port: number }
  /** Stops in reverse order of start; idempotent. */
  close (): Promise<void>
}

/**
 * The composition root: store, sync, then relay and HTTP on one port. Stops in reverse
 * order: sync (discovery, peer sockets), stop accepting, close sockets, then the store (which
 * fsyncs and closes the logs and index).
 */
export async function startNode (config: Config, opts: { log: Logger, staticDir?: string }): Promise<OutpostNode> {
  const log = opts.log
  const version = packageVersion()
  const startedAt = Date.now()
  const store = await Store.open({ dir: config.dataDir, limits: config.limits, store: config.store, log: log.child({ scope: 'store' }) })
  let ready = false
  let relay: RelayServer | null = null
  let server: Server | null = null
  let sync: SyncManager | null = null
  try {
    sync = await startSync(config, store, log.child({ scope: 'sync' }))
    // LAN discovery (issue 5, mdns helper): when config.lan, start LanDiscovery with
    // discoveryId(sync.community.publicKey), SYNC_PROTOCOL and the bound sync port, and feed it:
    //   lan.on('peer', p => sync.addPeerAddress({ host: p.host, port: p.port, source: 'lan' }))
    //   lan.on('lost', p => sync.removePeerAddress({ host: p.host, port: p.port, source: 'lan' }))
    // Close it first on shutdown (before sync.close()).
    relay = new RelayServer({ store, limits: config.limits, log })
    const nip11 = buildNip11({ name: config.name, version, limits: config.limits })
    const app = createHttpApp({
      log,
      nip11: () => nip11,
      health: () => ({
        ok: ready,
        version,
        events: store.count(),
        uptime: Math.round((Date.now() - startedAt) / 1000),
        role: config.role,
        connections: relay?.connections ?? 0,
        store: store.status()
      }),
      sync: () => sync?.status() ?? {},
      staticDir: opts.staticDir ?? path.join(packageRoot(), 'captive-portal')
    })
    server = createHttpServer(app, relay)
    const address = await listen(server, config.host, config.port)
    ready = true
    log.info({ ...address, dataDir: config.dataDir, version, role: config.role }, `outpost node listening on http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`)

    let closing: Promise<void> | null = null
    const s = server
    const r = relay
    const y = sync
    return {
      config,
      store,
      sync: y,
      address,
      close: async () => {
        if (closing === null) {
          closing = (async () => {
            ready = false
            await y.close()
            await r.close()
            await closeHttpServer(s)
            await store.close()
          })()
        }
        await closing
      }
    }
  } catch (err) {
    await sync?.close().catch(() => {})
    await relay?.close().catch(() => {})
    if (server !== null) await closeHttpServer(server).catch(() => {})
    await store.close().catch(() => {})
    throw err
  }
}
