import type { Logger } from '../log.js'
import type { SdNotifier } from '../system/sd-notify.js'

/** What startNode (../node.js) hands back. */
export interface RunningNode {
  close (): Promise<void>
  address: { host: string, port: number }
  /**
   * Resolves (with the reason) when the node must be closed and started again in this
   * process: its storage refuses writes until reopened (RocksDB after "no space left").
   */
  restartRequested?: Promise<string>
}

/** The process events `outpost start` reacts to; the real process, or an emitter in tests. */
export interface ProcessEvents {
  on (event: string, listener: (...args: any[]) => void): unknown
  off (event: string, listener: (...args: any[]) => void): unknown
}

export interface RunNodeOptions {
  start: () => Promise<RunningNode>
  log: Logger
  events: ProcessEvents
  /** Reports a failed start and returns the exit code. */
  onStartError: (err: unknown) => number
  /** systemd readiness/watchdog/stopping messages (a no-op outside systemd). */
  notify?: SdNotifier
}

/**
 * Start the node and keep it running until SIGINT/SIGTERM, then close it: resolves the exit code.
 * A second signal gives up on the close (exit 1); an uncaught error is logged as fatal (exit 1).
 * A node that asks for a restart (restartRequested) is closed and started again in place.
 */
export async function runNode (opts: RunNodeOptions): Promise<number> {
  const { log, events } = opts
  return await new Promise<number>(resolve => {
    let node: RunningNode | null = null
    let stopping = false
    let settled = false

    const finish = (code: number): void => {
      if (settled) return
      settled = true
      for (const [event, listener] of listeners) events.off(event, listener)
      if (opts.notify === undefined) resolve(code)
      else opts.notify.close().then(() => { resolve(code) }, () => { resolve(code) })
    }

    const close = (n: RunningNode): void => {
      n.close().then(() => {
        log.info('closed')
        finish(0)
      }, (err: unknown) => {
        log.error({ err }, 'close failed')
        finish(1)
      })
    }

    const onSignal = (signal: string): void => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting without a clean close')
        finish(1)
        return
      }
      stopping = true
      log.info({ signal }, 'closing')
      opts.notify?.stopping(`closing on ${signal}`)
      // a signal during startup is honoured once startNode resolves
      if (node !== null) close(node)
    }

    // logged, never swallowed: the process exits 1 and systemd restarts it
    const onFatal = (err: unknown): void => {
      log.fatal({ err }, 'uncaught error')
      finish(1)
    }

    const listeners: Array<[string, (...args: any[]) => void]> = [
      ['SIGINT', () => { onSignal('SIGINT') }],
      ['SIGTERM', () => { onSignal('SIGTERM') }],
      ['uncaughtException', onFatal],
      ['unhandledRejection', onFatal]
    ]
    for (const [event, listener] of listeners) events.on(event, listener)

    const restart = (n: RunningNode, reason: string): void => {
      if (stopping || settled || node !== n) return
      log.warn({ reason }, 'restarting the node in this process to reopen its storage')
      node = null
      // a close that fails still frees what it can; the start below reports what it cannot open
      n.close().catch((err: unknown) => { log.error({ err }, 'close before the restart failed') }).then(begin, begin)
    }

    const begin = (): void => {
      if (settled) return
      opts.start().then(n => {
        node = n
        if (settled) {
          // gave up during startup (second signal); don't leave it half-owned
          n.close().catch((err: unknown) => { log.error({ err }, 'close failed') })
          return
        }
        log.info({ address: n.address }, 'started')
        n.restartRequested?.then(reason => { restart(n, reason) }, () => {})
        if (stopping) close(n)
        else opts.notify?.ready(`serving on ${n.address.host}:${n.address.port}`)
      }, (err: unknown) => {
        finish(opts.onStartError(err))
      })
    }
    begin()
  })
}
