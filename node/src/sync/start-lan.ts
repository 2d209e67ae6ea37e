import crypto from 'node:crypto'
import type { Logger } from 'pino'
import type { Config } from '../config/types.js'
import { LanDiscovery, type LanPeer } from './mdns.js'
import { SYNC_PROTOCOL, discoveryId } from './protocol.js'
import type { SyncManager } from './sync-manager.js'

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
  const lan = new LanDiscovery({
    discoveryId: discoveryId(sync.community.publicKey),
    syncPort: bound.port,
    protocol: SYNC_PROTOCOL,
    // two nodes with the same name on one LAN must still be told apart
    name: `${config.name}-${crypto.randomBytes(3).toString('hex')}`,
    log,
    ...(config.lanInterfaces.length > 0 ? { interfaces: config.lanInterfaces } : {})
  })
  lan.on('peer', (p: LanPeer) => { sync.addPeerAddress({ host: p.host, port: p.port, source: 'lan' }) })
  lan.on('lost', (p: LanPeer) => { sync.removePeerAddress({ host: p.host, port: p.port, source: 'lan' }) })
  await lan.start()
  return lan
}
