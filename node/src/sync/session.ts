import Protomux from 'protomux'
import type NoiseSecretStream from '@hyperswarm/secret-stream'
import type { Logger } from 'pino'
import type { LogEntry } from './admission.js'
import { CHANNEL_PROTOCOL, MAX_ENTRIES_PER_MESSAGE, MAX_PRIORITY_RUNS, MAX_PRIORITY_SPAN, clockMessage, hello, logList, priorityAnswer, priorityRequest, type ClockMessage, type Hello, type PriorityAnswer, type PriorityRequest } from './messages.js'
import { SYNC_PROTOCOL } from './protocol.js'

export type PeerSource = 'static' | 'lan' | 'swarm' | 'incoming'

export interface SessionHooks {
  channelId: Buffer
  /** Our hello: protocol version and our admission signature. */
  hello: Hello
  /** Whether the remote's hello admits its key; false disconnects it. */
  admits: (remoteKey: Buffer, h: Hello) => boolean
  /** Called once the remote proved it belongs: start replication, send our logs. */
  onReady: (s: Session) => void
  /** A list of logs from the remote; throwing here disconnects it. */
  onLogs: (s: Session, entries: LogEntry[]) => void
  /** The remote asks for the priority classes of a log's blocks. */
  onPriorityRequest: (s: Session, req: PriorityRequest) => void
  /** The remote's answer to one of our priority requests. */
  onPriorityAnswer: (s: Session, ans: PriorityAnswer) => void
  /** What we tell the remote of our clock on open; undefined: nothing. */
  clock?: () => ClockMessage
  /** The remote's clock (once per session: later ones are ignored). */
  onClock?: (s: Session, m: ClockMessage) => void
  /** The node's clock, ms (default Date.now). */
  now?: () => number
  /** Protocol violation: a reason to disconnect (and back off from) this peer. */
  onViolation: (s: Session, reason: string) => void
  onClose: (s: Session) => void
}

/** Priority requests of one peer being answered at once; more is a flood. */
const MAX_PENDING_PRIORITY_REQUESTS = 64

/** How long a peer has to prove it belongs to the community before it is dropped. */
export const READY_TIMEOUT_MS = 15_000

/**
 * One authenticated connection to a peer: our protomux channel (hello + admitted-log lists)
 * beside corestore replication on the same Noise stream.
 */
export class Session {
  readonly stream: NoiseSecretStream
  readonly remoteKey: Buffer
  readonly source: PeerSource
  readonly host: string | undefined
  readonly port: number | undefined
  /** When it connected, by the node's clock. */
  readonly since: number
  ready = false
  closed = false
  logsReceived = 0
  logsRefused = 0
  private readonly hooks: SessionHooks
  private readonly log: Logger
  private readonly timer: NodeJS.Timeout
  private send: Protomux.Message<LogEntry[]> | null = null
  private sendRequest: Protomux.Message<PriorityRequest> | null = null
  private sendAnswer: Protomux.Message<PriorityAnswer> | null = null
  private sendClock: Protomux.Message<ClockMessage> | null = null
  /** The remote's clock as it told it on open (ms), and when we heard it (our ms). */
  remoteClock: { now: number, online: boolean, heardAt: number } | null = null
  /** Priority requests of the remote being answered (bounded: a flood is a violation). */
  pendingRequests = 0

  constructor (stream: NoiseSecretStream, info: { source: PeerSource, host?: string, port?: number }, hooks: SessionHooks, log: Logger) {
    this.stream = stream
    this.remoteKey = stream.remotePublicKey as Buffer
    this.source = info.source
    this.host = info.host
    this.port = info.port
    this.hooks = hooks
    this.since = hooks.now?.() ?? Date.now()
    this.log = log
    this.timer = setTimeout(() => { this.violation('did not join the community channel in time') }, READY_TIMEOUT_MS)
    this.timer.unref()
    stream.once('close', () => {
      this.closed = true
      clearTimeout(this.timer)
      hooks.onClose(this)
    })

    const mux = Protomux.from(stream)
    const channel = mux.createChannel({
      protocol: CHANNEL_PROTOCOL,
      id: hooks.channelId,
      handshake: hello,
      messages: [
        { encoding: logList, onmessage: (entries: LogEntry[]) => { this.onLogs(entries) } },
        { encoding: priorityRequest, onmessage: (req: PriorityRequest) => { this.onPriorityRequest(req) } },
        { encoding: priorityAnswer, onmessage: (ans: PriorityAnswer) => { this.onPriorityAnswer(ans) } },
        // an older peer without this message ignores it (protomux drops unknown message types)
        { encoding: clockMessage, onmessage: (m: ClockMessage) => { this.onClock(m) } }
      ],
      onopen: (h: Hello) => { this.onOpen(h) },
      onclose: () => { if (!this.closed) this.destroy() }
    })
    if (channel === null) {
      this.destroy(new Error('duplicate sync channel'))
      return
    }
    this.send = channel.messages[0] as Protomux.Message<LogEntry[]>
    this.sendRequest = channel.messages[1] as Protomux.Message<PriorityRequest>
    this.sendAnswer = channel.messages[2] as Protomux.Message<PriorityAnswer>
    this.sendClock = channel.messages[3] as Protomux.Message<ClockMessage>
    channel.open(hooks.hello)
  }

  private onOpen (h: Hello): void {
    if (h.version !== SYNC_PROTOCOL) return this.violation(`speaks sync protocol ${h.version}, we speak ${SYNC_PROTOCOL}`)
    if (!this.hooks.admits(this.remoteKey, h)) return this.violation('is not admitted to the community')
    clearTimeout(this.timer)
    this.ready = true
    const clock = this.hooks.clock?.()
    if (clock !== undefined) this.sendClock?.send(clock)
    this.hooks.onReady(this)
  }

  private onClock (m: ClockMessage): void {
    if (!this.ready) return this.violation('sent its clock before the handshake')
    if (this.remoteClock !== null) return
    this.remoteClock = { ...m, heardAt: this.hooks.now?.() ?? Date.now() }
    this.hooks.onClock?.(this, m)
  }

  private onLogs (entries: LogEntry[]): void {
    if (!this.ready) return this.violation('sent logs before the handshake')
    if (entries.length > MAX_ENTRIES_PER_MESSAGE) return this.violation('sent too many logs in one message')
    this.logsReceived += entries.length
    this.hooks.onLogs(this, entries)
  }

  private onPriorityRequest (req: PriorityRequest): void {
    if (!this.ready) return this.violation('asked for priorities before the handshake')
    if (req.to < req.from || req.to - req.from > MAX_PRIORITY_SPAN) return this.violation('asked for priorities of too many blocks')
    if (this.pendingRequests >= MAX_PENDING_PRIORITY_REQUESTS) return this.violation('flooded us with priority requests')
    this.hooks.onPriorityRequest(this, req)
  }

  private onPriorityAnswer (ans: PriorityAnswer): void {
    if (!this.ready) return this.violation('sent priorities before the handshake')
    if (ans.runs.length > MAX_PRIORITY_RUNS || ans.end < ans.from) return this.violation('sent a malformed priority answer')
    this.hooks.onPriorityAnswer(this, ans)
  }

  /** Asks the remote which blocks of a log are messages, text or bulky; false when not asked (not ready). */
  requestPriorities (req: PriorityRequest): boolean {
    if (!this.ready || this.closed || this.sendRequest === null) return false
    this.sendRequest.send(req)
    return true
  }

  answerPriorities (ans: PriorityAnswer): void {
    if (this.ready && !this.closed) this.sendAnswer?.send(ans)
  }

  /** Sends logs in bounded messages; false when the stream is congested. */
  sendLogs (entries: LogEntry[]): boolean {
    if (!this.ready || this.closed || this.send === null) return false
    let drained = true
    for (let i = 0; i < entries.length; i += MAX_ENTRIES_PER_MESSAGE) {
      drained = this.send.send(entries.slice(i, i + MAX_ENTRIES_PER_MESSAGE))
    }
    return drained
  }

  violation (reason: string): void {
    if (this.closed) return
    this.hooks.onViolation(this, reason)
    this.destroy(Object.assign(new Error(`peer ${reason}`), { code: 'ERR_PEER' }))
  }

  destroy (err?: Error): void {
    if (this.closed) return
    if (err !== undefined) this.log.debug({ err: err.message, peer: this.remoteKey.toString('hex') }, 'closing a sync session')
    this.stream.destroy(err)
  }

  get bytesIn (): number { return this.stream.rawBytesRead }
  get bytesOut (): number { return this.stream.rawBytesWritten }
}
