import net from 'node:net'
import NoiseSecretStream from '@hyperswarm/secret-stream'
import type { KeyPair } from './identity.js'

/** TCP keepalive for Wi-Fi peers that vanish without a FIN. */
const TCP_KEEPALIVE_MS = 10_000
const CONNECT_TIMEOUT_MS = 10_000

function tune (socket: net.Socket): void {
  socket.setNoDelay(true)
  socket.setKeepAlive(true, TCP_KEEPALIVE_MS)
}

/** Wraps a TCP socket in a Noise stream (XX, ed25519): encrypted and mutually authenticated. */
export function secureSocket (socket: net.Socket, isInitiator: boolean, keyPair: KeyPair): NoiseSecretStream {
  tune(socket)
  // EPIPE/ECONNRESET surface on the Noise stream too; never let a socket error go unhandled
  socket.on('error', () => {})
  return new NoiseSecretStream(isInitiator, socket, { keyPair })
}

/** Connects, resolving once TCP is up (the Noise handshake follows on the stream). */
export async function connectTcp (host: string, port: number): Promise<net.Socket> {
  return await new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect({ host, port })
    const timer = setTimeout(() => { socket.destroy(new Error('connect timed out')) }, CONNECT_TIMEOUT_MS)
    socket.once('connect', () => { clearTimeout(timer); socket.off('error', onError); resolve(socket) })
    const onError = (err: Error): void => { clearTimeout(timer); socket.destroy(); reject(err) }
    socket.once('error', onError)
  })
}
