import Protomux from 'protomux'
import type NoiseSecretStream from '@hyperswarm/secret-stream'
import type { Logger } from 'pino'
import type { LogEntry } from './admission.js'
import { CHANNEL_PROTOCOL, MAX_ENTRIES_PER_MESSAGE, hello, logList, type Hello } from './messages.js'
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
  /** Protocol violation: a reason to disconnect (and back off from) this peer. */
  onViolation: (s: Session, reason: string) => void
  onClose: (s: Session) => void
}

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
  readonly since = Date.now()
  ready = false
  closed = false
  logsReceived = 0
  logsRefused = 0
  private readonly hooks: SessionHooks
  private readonly log: Logger
  private readonly timer: NodeJS.Timeout
  private send: Protomux.Message<LogEntry[]> | null = null

  constructor (stream: NoiseSecretStream, info: { source: PeerSource, host?: string, port?: number }, hooks: SessionHooks, log: Logger) {
    this.stream = stream
    this.remoteKey = stream.remotePublicKey as Buffer
    this.source = info.source
    this.host = info.host
    this.port = info.port
    this.hooks = hooks
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
      messages: [{ encoding: logList, onmessage: (entries: LogEntry[]) => { this.onLogs(entries) } }],
      onopen: (h: Hello) => { this.onOpen(h) },
      onclose: () => { if (!this.closed) this.destroy() }
    })
    if (channel === null) {
      this.destroy(new Error('duplicate sync channel'))
      return
    }
    this.send = channel.messages[0] as Protomux.Message<LogEntry[]>
    channel.open(hooks.hello)
  }

  private onOpen (h: Hello): void {
    if (h.version !== SYNC_PROTOCOL) return this.violation(`speaks sync protocol ${h.version}, we speak ${SYNC_PROTOCOL}`)
    if (!this.hooks.admits(this.remoteKey, h)) return this.violation('is not admitted to the community')
    clearTimeout(this.timer)
    this.ready = true
    this.hooks.onReady(this)
  }

  private onLogs (entries: LogEntry[]): void {
    if (!this.ready) return this.violation('sent logs before the handshake')
    if (entries.length > MAX_ENTRIES_PER_MESSAGE) return this.violation('sent too many logs in one message')
    this.logsReceived += entries.length
    this.hooks.onLogs(this, entries)
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
