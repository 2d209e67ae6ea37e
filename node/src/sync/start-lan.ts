import crypto from 'node:crypto'
import { networkInterfaces } from 'node:os'
import type { Logger } from 'pino'
import type { Config } from '../config/types.js'
import { LanDiscovery, type LanPeer } from './mdns.js'
import { SYNC_PROTOCOL, discoveryId } from './protocol.js'
import type { SyncManager } from './sync-manager.js'

type OsInterfaces = ReturnType<typeof networkInterfaces>

/**
 * Where to advertise: the configured interfaces; else, when the sync port is bound to one
 * address (`--sync-host 10.0.0.1`), only the interface holding it (elsewhere the advertised
 * port would be closed, and peers there would dial it for ever); else every interface
 * (undefined). null: the sync port is on loopback, nobody on a LAN can reach it.
 */
export function advertiseOn (configured: string[], bound: string, system: OsInterfaces = networkInterfaces()): string[] | undefined | null {
  if (configured.length > 0) return configured
  if (bound === '0.0.0.0' || bound === '::') return undefined
  if (bound === '::1' || bound.startsWith('127.')) return null
  for (const [name, list] of Object.entries(system)) {
    if (list?.some(a => a.address === bound && !a.internal) === true) return [name]
  }
  return undefined
}

/**
 * LAN discovery for a running sync manager: advertises the bound sync port under the
 * community's discovery id and hands every peer found to the manager's dialer. Returns null
 * when `--no-lan` or when the node does not listen for sync connections (nothing to advertise).
 */
export async function startLan (config: Config, sync: SyncManager, log: Logger): Promise<LanDiscovery | null> {
  const bound = sync.listening
  if (!config.lan || bound === null) {
    if (config.lan) log.warn('LAN discovery is on but the sync port is not open: nothing to advertise')
    return null
  }
  const interfaces = advertiseOn(config.lanInterfaces, bound.host)
  if (interfaces === null) {
    log.warn({ syncHost: bound.host }, 'LAN discovery is on but the sync port listens on loopback only: nothing to advertise (use --sync-host 0.0.0.0 or a LAN address)')
    return null
  }
  const lan = new LanDiscovery({
    discoveryId: discoveryId(sync.community.publicKey),
    syncPort: bound.port,
    protocol: SYNC_PROTOCOL,
    // two nodes with the same name on one LAN must still be told apart
    name: `${config.name}-${crypto.randomBytes(3).toString('hex')}`,
    log,
    ...(interfaces === undefined ? {} : { interfaces })
  })
  lan.on('peer', (p: LanPeer) => { sync.addPeerAddress({ host: p.host, port: p.port, source: 'lan' }) })
  lan.on('lost', (p: LanPeer) => { sync.removePeerAddress({ host: p.host, port: p.port, source: 'lan' }) })
  await lan.start()
  return lan
}
