declare module 'hypercore-crypto' {
  interface KeyPair { publicKey: Buffer, secretKey: Buffer }
  const crypto: {
    keyPair (seed?: Buffer): KeyPair
    validateKeyPair (keyPair: KeyPair): boolean
    sign (message: Buffer, secretKey: Buffer): Buffer
    verify (message: Buffer, signature: Buffer, publicKey: Buffer): boolean
    randomBytes (n: number): Buffer
  }
  export = crypto
}

declare module '@hyperswarm/secret-stream' {
  import type { Duplex } from 'node:stream'
  import type { EventEmitter } from 'node:events'
  class NoiseSecretStream extends EventEmitter {
    constructor (isInitiator: boolean, rawStream: Duplex | null, opts?: { keyPair?: { publicKey: Buffer, secretKey: Buffer }, remotePublicKey?: Buffer, keepAlive?: number, [k: string]: unknown })
    readonly isInitiator: boolean
    readonly publicKey: Buffer | null
    readonly remotePublicKey: Buffer | null
    readonly handshakeHash: Buffer | null
    readonly rawStream: any
    readonly rawBytesRead: number
    readonly rawBytesWritten: number
    readonly destroyed: boolean
    readonly destroying: boolean
    readonly opened: Promise<boolean>
    userData: unknown
    setTimeout (ms: number): void
    setKeepAlive (ms: number): void
    write (data: Buffer): boolean
    end (): void
    destroy (err?: Error): void
  }
  export = NoiseSecretStream
}

declare module 'protomux' {
  namespace Protomux {
    interface Message<T = unknown> { send (value: T): boolean }
    interface Channel {
      readonly opened: boolean
      readonly closed: boolean
      readonly messages: Message[]
      userData: unknown
      open (handshake?: unknown): void
      close (): void
      addMessage<T = unknown> (opts: { encoding: unknown, onmessage?: (value: T) => void }): Message<T>
    }
  }
  class Protomux {
    static from (stream: unknown): Protomux
    readonly drained: boolean
    cork (): void
    uncork (): void
    createChannel (opts: {
      protocol: string
      id?: Buffer | null
      unique?: boolean
      handshake?: unknown
      messages?: Array<{ encoding: unknown, onmessage?: (value: any) => void }>
      onopen?: (handshake: any) => void | Promise<void>
      onclose?: () => void
      ondestroy?: () => void
      ondrain?: () => void
    }): Protomux.Channel | null
  }
  export = Protomux
}
