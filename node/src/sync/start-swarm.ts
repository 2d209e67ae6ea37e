import type { Logger } from 'pino'
import type NoiseSecretStream from '@hyperswarm/secret-stream'
import type { Config } from '../config/types.js'
import { UplinkMonitor, type UplinkState } from '../system/uplink.js'
import { SwarmTransport, followUplink, parseBootstrap, type SwarmConnectionInfo } from './swarm.js'
import { swarmTopic } from './protocol.js'
import type { SyncManager } from './sync-manager.js'

type Countable = NoiseSecretStream & { rawBytesRead: number, rawBytesWritten: number }

/**
 * Swarm traffic (raw bytes in + out, Noise framing included) per uplink session: a session
 * starts when the uplink comes online (or at start). Streams are counted from the moment they
 * are tracked or the session began, closed ones keep counting towards their session.
 */
export class UplinkBudget {
  readonly limit: number
  private readonly base = new Map<Countable, number>()
  private closedBytes = 0
  spent = false

  constructor (limit: number) { this.limit = limit }

  private static bytes (s: Countable): number { return s.rawBytesRead + s.rawBytesWritten }

  /** Counts a swarm stream; `onData` runs on every raw chunk it receives (the budget check). */
  track (stream: NoiseSecretStream, onData: () => void): void {
    const s = stream as Countable
    this.base.set(s, UplinkBudget.bytes(s))
    const raw = s.rawStream as { on?: (e: string, f: () => void) => void, off?: (e: string, f: () => void) => void } | null
    raw?.on?.('data', onData)
    s.once('close', () => {
      raw?.off?.('data', onData)
      const b = this.base.get(s)
      if (b !== undefined) this.closedBytes += UplinkBudget.bytes(s) - b
      this.base.delete(s)
    })
  }

  get used (): number {
    let n = this.closedBytes
    for (const [s, b] of this.base) n += UplinkBudget.bytes(s) - b
    return n
  }

  /** Cuts every counted stream now (when spent: leave() takes a while, data would keep flowing). */
  cut (): void {
    for (const s of this.base.keys()) s.destroy()
  }

  /** A new uplink session: nothing used yet. */
  reset (): void {
    this.closedBytes = 0
    for (const s of this.base.keys()) this.base.set(s, UplinkBudget.bytes(s))
    this.spent = false
  }
}

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
  const budget = config.swarmBudget > 0 ? new UplinkBudget(config.swarmBudget) : null
  const checkBudget = (): void => {
    if (budget === null || budget.spent || budget.used < budget.limit) return
    budget.spent = true
    log.warn({ budget: budget.limit, used: budget.used }, 'data budget of this uplink session spent: leaving the swarm until the uplink next comes up')
    budget.cut()
    transport.leave().catch(err => { log.warn({ err: (err as Error).message }, 'swarm leave failed') })
  }
  transport.on('connection', (stream: NoiseSecretStream, info: SwarmConnectionInfo) => {
    if (budget?.spent === true) { stream.destroy(); return }
    budget?.track(stream, checkBudget)
    sync.handleStream(stream, { remotePublicKey: info.remotePublicKey, source: 'swarm' })
  })
  const uplink = new UplinkMonitor({
    // a relay serves no access point: any interface with a default route is its uplink
    ...(config.role === 'relay' ? {} : { apInterface: config.apInterface }),
    ...(bootstrap.length > 0 ? { bootstrap } : {}),
    ...(opts.uplinkIntervalMs !== undefined ? { intervalMs: opts.uplinkIntervalMs } : {}),
    log
  })
  let since = sync.now()
  let transitions = 0
  const onChange = (state: UplinkState): void => {
    since = sync.now()
    transitions++
    if (state !== 'online' || budget === null) return
    // a new uplink session: a fresh budget (followUplink joins in auto mode; on mode left when spent)
    const wasSpent = budget.spent
    budget.reset()
    if (wasSpent && config.swarm === 'on') transport.join().catch(err => { log.warn({ err: (err as Error).message }, 'swarm join failed') })
  }
  uplink.on('change', onChange)
  let unfollow = (): void => {}
  try {
    await uplink.start()
    since = sync.now()
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
      connections: transport.connections,
      budget: budget === null ? null : { bytes: budget.limit, used: budget.used, spent: budget.spent }
    }),
    close: async () => {
      unfollow()
      uplink.off('change', onChange)
      await uplink.close()
      await transport.close()
    }
  }
}
