import { execFile } from 'node:child_process'
import type { Logger } from '../log.js'

/**
 * systemd's notify protocol (sd_notify(3)) for a `Type=notify` unit: readiness, status text,
 * watchdog pings and stopping.
 *
 * Node has no unix datagram sockets, so each message is sent by `systemd-notify` (the unit
 * needs `NotifyAccess=all`, since the sender is a child process). systemd-notify waits by
 * default until the manager has processed the message (a BARRIER=1 handshake, systemd >= 246),
 * so the message is attributed to the unit even though the child exits right after.
 * Everything is a no-op when NOTIFY_SOCKET is unset (not started by systemd).
 */
export interface SdNotifier {
  /** Whether messages are sent at all (NOTIFY_SOCKET is set). */
  readonly enabled: boolean
  /** READY=1 with a status line. (Watchdog pings run from creation while the unit asks for them.) */
  ready (status: string): void
  status (status: string): void
  /** STOPPING=1; stops the watchdog pings. */
  stopping (status?: string): void
  /** Stops the watchdog pings; resolves once messages already queued are sent. */
  close (): Promise<void>
  /** Milliseconds between watchdog pings (half of WATCHDOG_USEC), or null when off. */
  readonly watchdogIntervalMs: number | null
}

/** Runs `systemd-notify` with the given assignments; tests may swap it. */
export type NotifySender = (assignments: string[], env: Record<string, string | undefined>) => Promise<void>

export interface SdNotifierOptions {
  env: Record<string, string | undefined>
  log: Logger
  pid?: number
  send?: NotifySender
}

const SEND_TIMEOUT_MS = 5000

const systemdNotify: NotifySender = async (assignments, env) => {
  await new Promise<void>((resolve, reject) => {
    execFile('systemd-notify', assignments, { env: env as NodeJS.ProcessEnv, timeout: SEND_TIMEOUT_MS }, err => {
      if (err === null) resolve()
      else reject(err)
    })
  })
}

/** The watchdog interval the service manager asks for (half its timeout), or null. */
export function watchdogInterval (env: Record<string, string | undefined>, pid: number): number | null {
  const usec = Number(env.WATCHDOG_USEC)
  if (!Number.isSafeInteger(usec) || usec <= 0) return null
  // WATCHDOG_PID names the process meant to ping; a child that inherited the env must not
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== String(pid)) return null
  return Math.max(1, Math.floor(usec / 2000))
}

// a status line is one assignment: newlines would start new ones
const oneLine = (s: string): string => s.replace(/[\r\n]+/g, ' ')

export function createSdNotifier (opts: SdNotifierOptions): SdNotifier {
  const socket = opts.env.NOTIFY_SOCKET
  const enabled = socket !== undefined && socket !== ''
  const pid = opts.pid ?? process.pid
  const interval = enabled ? watchdogInterval(opts.env, pid) : null
  const send = opts.send ?? systemdNotify
  const log = opts.log.child({ scope: 'sd-notify' })
  const env = { ...opts.env }
  let queue: Promise<void> = Promise.resolve()
  let timer: NodeJS.Timeout | null = null
  let failed = false
  let closed = false

  // one message at a time, in order; a failure is logged once and never thrown
  const post = (assignments: string[]): void => {
    if (!enabled || closed) return
    queue = queue.then(async () => { await send(assignments, env) }).catch((err: unknown) => {
      if (failed) return
      failed = true
      log.warn({ err, assignments }, 'systemd-notify failed; readiness and watchdog messages may be lost')
    })
  }

  const stopWatchdog = (): void => {
    if (timer !== null) clearInterval(timer)
    timer = null
  }

  // Pings start at once, not at READY: systemd may arm the watchdog while a long start-up
  // (an index rebuild) is still running. They run on the event loop, so a stuck loop stops
  // them and systemd restarts the node.
  if (interval !== null) {
    timer = setInterval(() => { post(['WATCHDOG=1']) }, interval)
    timer.unref()
  }

  return {
    enabled,
    watchdogIntervalMs: interval,
    ready (status) {
      post(['READY=1', `STATUS=${oneLine(status)}`])
    },
    status (status) {
      post([`STATUS=${oneLine(status)}`])
    },
    stopping (status = 'stopping') {
      stopWatchdog()
      post(['STOPPING=1', `STATUS=${oneLine(status)}`])
    },
    async close () {
      stopWatchdog()
      closed = true
      await queue
    }
  }
}
