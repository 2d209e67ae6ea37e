import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { pino, type Logger } from 'pino'
import HyperDHT from 'hyperdht'
import type Hyperswarm from 'hyperswarm'
import { SwarmTransport, type SwarmAddress, type SwarmConnectionInfo, type SwarmTransportOptions } from '../../node/src/sync/swarm.js'

export interface LogRecord { level: number, msg: string, [k: string]: unknown }

/** A real pino logger that keeps every record (and echoes them when OUTPOST_TEST_LOG is set). */
export function recordingLogger (): { log: Logger, records: LogRecord[] } {
  const records: LogRecord[] = []
  const echo = process.env.OUTPOST_TEST_LOG !== undefined
  const log = pino({ level: 'debug' }, {
    write (line: string) {
      records.push(JSON.parse(line) as LogRecord)
      if (echo) process.stderr.write(line)
    }
  })
  return { log, records }
}

export interface Peer {
  transport: SwarmTransport
  keyPair: { publicKey: Buffer, secretKey: Buffer }
  /** Every connection handed out so far. */
  conns: Array<{ stream: Hyperswarm.Connection, info: SwarmConnectionInfo }>
  records: LogRecord[]
  log: Logger
}

/** A SwarmTransport built the way a private deployment builds it: from a bootstrap list only. */
export function swarmPeer (topic: Buffer, bootstrap: SwarmAddress[], extra: Partial<SwarmTransportOptions> = {}): Peer {
  const keyPair = HyperDHT.keyPair(randomBytes(32))
  const { log, records } = recordingLogger()
  const transport = new SwarmTransport({ topic, keyPair, bootstrap, log, ...extra })
  const conns: Peer['conns'] = []
  transport.on('connection', (stream: Hyperswarm.Connection, info: SwarmConnectionInfo) => { conns.push({ stream, info }) })
  return { transport, keyPair, conns, records, log }
}

/** Resolves with the next connection `peer` gets from `remote` (rejects after ms). */
export async function nextConnection (peer: Peer, remote: Peer, ms: number): Promise<{ stream: Hyperswarm.Connection, info: SwarmConnectionInfo }> {
  const open = peer.conns.find(c => c.info.remotePublicKey.equals(remote.keyPair.publicKey) && !c.stream.destroyed)
  if (open !== undefined) return open
  const ac = new AbortController()
  const timer = setTimeout(() => { ac.abort() }, ms)
  try {
    for (;;) {
      const [stream, info] = await once(peer.transport, 'connection', { signal: ac.signal }) as [Hyperswarm.Connection, SwarmConnectionInfo]
      if (info.remotePublicKey.equals(remote.keyPair.publicKey)) return { stream, info }
    }
  } catch (err) {
    if (ac.signal.aborted) throw new Error(`no swarm connection within ${ms} ms`)
    throw err
  } finally {
    clearTimeout(timer)
  }
}

/** Sends `text` on the stream and resolves with the first chunk the other side sends. */
export async function exchange (stream: Hyperswarm.Connection, text: string, ms = 10000): Promise<string> {
  const got = once(stream, 'data', { signal: AbortSignal.timeout(ms) }) as Promise<[Buffer]>
  stream.write(Buffer.from(text))
  const [data] = await got
  return data.toString()
}

export function topic (): Buffer { return randomBytes(32) }

export const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** Records at warn level or above (errors and warnings). */
export function complaints (records: LogRecord[]): LogRecord[] { return records.filter(r => r.level >= 40) }

/**
 * Both sides' connection to each other once hyperswarm has settled duplicates (two peers that
 * dial each other at once get two connections, and hyperswarm destroys one of them).
 */
export async function settledPair (a: Peer, b: Peer, ms: number): Promise<[Hyperswarm.Connection, Hyperswarm.Connection]> {
  await Promise.all([nextConnection(a, b, ms), nextConnection(b, a, ms)])
  await sleep(1000)
  const open = (p: Peer, r: Peer): Hyperswarm.Connection => {
    const live = p.conns.filter(c => c.info.remotePublicKey.equals(r.keyPair.publicKey) && !c.stream.destroyed)
    if (live.length !== 1) throw new Error(`expected one live connection, found ${live.length}`)
    return (live[0] as { stream: Hyperswarm.Connection }).stream
  }
  return [open(a, b), open(b, a)]
}
