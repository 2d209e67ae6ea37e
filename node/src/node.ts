import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { Server } from 'node:http'
import type { Logger } from 'pino'
import type { Config } from './config/types.js'
import { Store } from './store/store.js'
import { RelayServer } from './relay/relay-server.js'
import { buildNip11 } from './relay/nip11.js'
import { createHttpApp, createHttpServer, listen, closeHttpServer } from './http/app.js'
import { CaptivePortal, portalEnabled } from './portal/portal.js'
import { packageVersion } from './cli/version.js'
import { packageRoot } from './paths.js'
import { startSync } from './sync/start-sync.js'
import { startLan } from './sync/start-lan.js'
import type { SyncManager } from './sync/sync-manager.js'
import type { LanDiscovery } from './sync/mdns.js'
import { mirror } from './mirror/mirror.js'
import { startSwarm, type SwarmHandle } from './sync/start-swarm.js'
import { DeliveryTracker } from './sync/delivery.js'
import { Moderation } from './admin/moderation.js'
import { ModeratedStore } from './admin/moderated-store.js'
import { adminPanel } from './admin/admin.js'
import { NodeClock } from './system/clock.js'
import { DiskSpace } from './system/disk-space.js'

export interface OutpostNode {
  readonly config: Config
  readonly store: Store
  /** The site's moderation policy (what this node does not show or accept from its clients). */
  readonly moderation: Moderation
  /** null when the portal is off (relay role, or portal.enabled off). */
  readonly portal: CaptivePortal | null
  readonly sync: SyncManager
  /** The node's time (better than the system clock of a Pi without a real-time clock). */
  readonly clock: NodeClock
  readonly address: { host: string, port: number }
  /** Free space of the data directory against its reserve (--min-free-disk). */
  readonly disk: DiskSpace
  /** Resolves when the storage must be reopened (a write ran out of space, and space is back): close and start again. */
  readonly restartRequested: Promise<string>
  /** Stops in reverse order of start; idempotent. */
  close (): Promise<void>
}

/**
 * The composition root: store, sync (and LAN discovery), portal, then relay and HTTP on one
 * port. Stops in reverse order: discovery and peer sockets, stop accepting, close sockets, then
 * the store (which fsyncs and closes the logs and index).
 */
export async function startNode (config: Config, opts: { log: Logger, staticDir?: string }): Promise<OutpostNode> {
  const log = opts.log
  const version = packageVersion()
  const startedAt = Date.now()
  // a relay has no log of its own: it only carries the community's
  const relayRole = config.role === 'relay'
  // below the reserve nothing new is taken in: phones' events are refused, replication pauses
  await fs.mkdir(config.dataDir, { recursive: true })
  const disk = new DiskSpace({ dir: config.dataDir, reserve: Math.round(config.store.minFreeDiskMiB * 1024 * 1024), log: log.child({ scope: 'disk' }) })
  await disk.start()
  const restartRequested = new Promise<string>(resolve => { disk.once('reopen', (why: string) => { resolve(`a write failed for want of space (${why}); space is back`) }) })
  const clock = await NodeClock.open({ dataDir: config.dataDir, log: log.child({ scope: 'clock' }) })
  const nowSeconds = (): number => clock.nowSeconds()
  let store: Store
  try {
    store = await Store.open({ dir: config.dataDir, limits: config.limits, store: config.store, log: log.child({ scope: 'store' }), readOnly: relayRole, now: nowSeconds, disk })
  } catch (err) {
    disk.close()
    await clock.close()
    throw err
  }
  let ready = false
  let relay: RelayServer | null = null
  let server: Server | null = null
  let portal: CaptivePortal | null = null
  let sync: SyncManager | null = null
  let lan: LanDiscovery | null = null
  let swarm: SwarmHandle | null = null
  let delivery: DeliveryTracker | null = null
  try {
    sync = await startSync(config, store, log.child({ scope: 'sync' }), clock)
    const logs = sync.logs
    logs.downloaded = bytes => { disk.wrote(bytes) }
    logs.setPaused(disk.full)
    disk.on('change', (full: boolean) => { logs.setPaused(full) })
    lan = await startLan(config, sync, log.child({ scope: 'lan' }))
    delivery = new DeliveryTracker({ sync, dataDir: config.dataDir, log: log.child({ scope: 'delivery' }), isRelay: peer => sync?.isRelay(peer) === true, now: () => clock.now() })
    await delivery.start()
    swarm = await startSwarm(config, sync, log)
    const uplink = swarm?.uplink
    if (uplink !== undefined) clock.online = () => uplink.state === 'online'
    if (portalEnabled(config.portal, config.role)) {
      portal = await CaptivePortal.open({ portal: config.portal, name: config.name, dataDir: config.dataDir, listenHost: config.host, log })
    }
    // what this node shows and accepts from its clients: the store behind the site's moderation
    const moderation = await Moderation.open({ dataDir: config.dataDir, log: log.child({ scope: 'moderation' }), now: () => clock.now() })
    const shown = new ModeratedStore(store, moderation, config.limits)
    relay = new RelayServer({ store: shown, limits: config.limits, log, now: nowSeconds })
    const nip11 = buildNip11({ name: config.name, version, limits: config.limits, restrictedWrites: relayRole })
    const health = (): { ok: boolean, [k: string]: unknown } => ({
      ok: ready,
      version,
      events: store.count(),
      uptime: Math.round((Date.now() - startedAt) / 1000),
      role: config.role,
      connections: relay?.connections ?? 0,
      portal: portal === null ? null : { mode: config.portal.mode, accepted: portal.clients.size },
      store: store.status(),
      uplink: swarm?.status().uplink ?? null,
      clock: { ...clock.status(), eventsAhead: store.eventsAhead },
      // a full disk still serves (reads, the web client, the mirror): health stays 200
      disk: disk.status()
    })
    const syncStatus = (): Record<string, unknown> => ({ ...(sync?.status() ?? {}), swarm: swarm?.status() ?? { mode: 'off' }, delivery: delivery?.status() ?? null })
    const app = createHttpApp({
      log,
      nip11: () => nip11,
      health,
      // the built phone client (npm run build:web)
      staticDir: opts.staticDir ?? path.join(packageRoot(), 'captive-portal', 'dist'),
      portal: portal?.middleware(),
      admin: adminPanel({ name: config.name, passwordFile: config.adminPasswordFile, health, sync: syncStatus, moderation, store, view: shown, dataDir: config.dataDir, log, now: () => clock.now() }),
      ...(relayRole ? { mirror: mirror({ store: shown, name: config.name, maxLimit: config.limits.maxLimit }) } : {}),
      sync: syncStatus,
      now: () => clock.now(),
      phoneClock: (address, ms) => { clock.phoneClock(address, ms) }
    })
    server = createHttpServer(app, relay)
    const address = await listen(server, config.host, config.port)
    ready = true
    log.info({ ...address, dataDir: config.dataDir, version, role: config.role }, `outpost node listening on http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`)

    let closing: Promise<void> | null = null
    const s = server
    const r = relay
    const p = portal
    const y = sync
    const l = lan
    const w = swarm
    const d = delivery
    return {
      config,
      store,
      moderation,
      portal,
      sync: y,
      clock,
      address,
      disk,
      restartRequested,
      close: async () => {
        if (closing === null) {
          closing = (async () => {
            ready = false
            // goodbye on mDNS first, leave the swarm, last delivery sample, then the peer sockets,
            // before the store they replicate; every step runs even if one before it fails
            let failed: unknown = null
            const steps: Array<[string, () => Promise<void> | undefined]> = [
              ['LAN discovery', () => l?.close()],
              ['swarm', () => w?.close()],
              ['delivery view', async () => { await d.close() }],
              ['sync', async () => { await y.close() }],
              ['relay', async () => { await r.close() }],
              ['HTTP server', async () => { await closeHttpServer(s) }],
              ['portal', () => p?.close()],
              ['store', async () => { await store.close() }],
              ['clock', async () => { await clock.close() }],
              ['disk watcher', async () => { disk.close() }]
            ]
            for (const [what, step] of steps) {
              try {
                await step()
              } catch (err) {
                log.error({ err }, `closing the ${what} failed`)
                failed ??= err
              }
            }
            if (failed !== null) throw failed
          })()
        }
        await closing
      }
    }
  } catch (err) {
    await lan?.close().catch(() => {})
    await swarm?.close().catch(() => {})
    await delivery?.close().catch(() => {})
    await sync?.close().catch(() => {})
    await relay?.close().catch(() => {})
    if (server !== null) await closeHttpServer(server).catch(() => {})
    await portal?.close().catch(() => {})
    await store.close().catch(() => {})
    disk.close()
    await clock.close()
    throw err
  }
}
