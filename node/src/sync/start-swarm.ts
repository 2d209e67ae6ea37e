import type { Logger } from 'pino'
import type NoiseSecretStream from '@hyperswarm/secret-stream'
import type { Config } from '../config/types.js'
import { UplinkMonitor, type UplinkState } from '../system/uplink.js'
import { SwarmTransport, followUplink, parseBootstrap, type SwarmConnectionInfo } from './swarm.js'
import { swarmTopic } from './protocol.js'
import type { SyncManager } from './sync-manager.js'

/** The internet side of a node: the uplink monitor and the swarm that follows it. */
export interface SwarmHandle {
  readonly transport: SwarmTransport
  readonly uplink: UplinkMonitor
  /** For /api/sync: the mode, the uplink state and since when, the swarm state. */
  status: () => Record<string, unknown>
  /** Stop following the uplink, close the swarm (every connection, the DHT node), stop polling. */
  close: () => Promise<void>
}

/**
 * Starts the uplink monitor and the community's swarm transport for a running sync manager
 * (`--swarm auto|on`); every swarm connection goes to sync.handleStream() like a TCP one. The
 * first uplink check runs before the policy starts, so a node that boots online joins at once.
 * Returns null for `--swarm off`: nothing is created, no socket, no timer.
 */
export async function startSwarm (config: Config, sync: SyncManager, log: Logger, opts: { uplinkIntervalMs?: number } = {}): Promise<SwarmHandle | null> {
  if (config.swarm === 'off') return null
  const bootstrap = parseBootstrap(config.bootstrap)
  const transport = new SwarmTransport({
    topic: swarmTopic(sync.community.publicKey),
    keyPair: sync.keyPair,
    ...(bootstrap.length > 0 ? { bootstrap } : {}),
    log
  })
  transport.on('connection', (stream: NoiseSecretStream, info: SwarmConnectionInfo) => {
    sync.handleStream(stream, { remotePublicKey: info.remotePublicKey, source: 'swarm' })
  })
  const uplink = new UplinkMonitor({
    apInterface: config.apInterface,
    ...(bootstrap.length > 0 ? { bootstrap } : {}),
    ...(opts.uplinkIntervalMs !== undefined ? { intervalMs: opts.uplinkIntervalMs } : {}),
    log
  })
  let since = Date.now()
  let transitions = 0
  const onChange = (_state: UplinkState): void => {
    since = Date.now()
    transitions++
  }
  uplink.on('change', onChange)
  let unfollow = (): void => {}
  try {
    await uplink.start()
    since = Date.now()
    unfollow = followUplink(config.swarm, uplink, transport, log)
  } catch (err) {
    await uplink.close().catch(() => {})
    await transport.close().catch(() => {})
    throw err
  }
  log.info({ mode: config.swarm, uplink: uplink.state }, 'internet swarm started')
  return {
    transport,
    uplink,
    status: () => ({
      mode: config.swarm,
      uplink: { state: uplink.state, since: new Date(since).toISOString(), transitions },
      state: transport.state,
      connections: transport.connections
    }),
    close: async () => {
      unfollow()
      uplink.off('change', onChange)
      await uplink.close()
      await transport.close()
    }
  }
}
