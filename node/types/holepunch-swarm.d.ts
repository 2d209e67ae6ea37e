// Shims for the parts of hyperswarm / hyperdht the swarm transport and its tests use.

declare module 'hyperdht' {
  import type { EventEmitter } from 'node:events'
  namespace HyperDHT {
    interface Address { host: string, port: number }
    interface Options {
      bootstrap?: Array<Address | string>
      /** UDP bind address of the DHT sockets (default 0.0.0.0). */
      host?: string
      port?: number
      ephemeral?: boolean
      firewalled?: boolean
      keyPair?: { publicKey: Buffer, secretKey: Buffer }
      [k: string]: unknown
    }
  }
  class HyperDHT extends EventEmitter {
    constructor (opts?: HyperDHT.Options)
    static keyPair (seed?: Buffer): { publicKey: Buffer, secretKey: Buffer }
    readonly destroyed: boolean
    readonly bootstrapped: boolean
    readonly firewalled: boolean
    readonly ephemeral: boolean
    readonly online: boolean
    readonly nodes: { length: number }
    readonly stats: Record<string, unknown>
    address (): { host: string, port: number, family: number }
    ready (): Promise<void>
    fullyBootstrapped (): Promise<void>
    refresh (): void
    ping (addr: HyperDHT.Address, opts?: Record<string, unknown>): Promise<unknown>
    destroy (opts?: { force?: boolean }): Promise<void>
  }
  export = HyperDHT
}

declare module 'hyperdht/testnet.js' {
  import type HyperDHT from 'hyperdht'
  interface Testnet extends Iterable<HyperDHT> {
    nodes: HyperDHT[]
    bootstrap: Array<{ host: string, port: number }>
    createNode (opts?: HyperDHT.Options): HyperDHT
    destroy (): Promise<void>
  }
  function createTestnet (size?: number, opts?: { host?: string, port?: number, bootstrap?: Array<{ host: string, port: number }>, teardown?: (fn: () => Promise<void>) => void } | ((fn: () => Promise<void>) => void)): Promise<Testnet>
  export = createTestnet
}

declare module 'hyperswarm' {
  import type { EventEmitter } from 'node:events'
  import type { Duplex } from 'node:stream'
  import type HyperDHT from 'hyperdht'
  namespace Hyperswarm {
    /** The NoiseSecretStream hyperswarm hands out (encrypted, authenticated). */
    interface Connection extends Duplex {
      readonly remotePublicKey: Buffer
      readonly publicKey: Buffer
      readonly isInitiator: boolean
      readonly rawStream: { remoteHost?: string, remotePort?: number } | null
      readonly rawBytesRead: number
      readonly rawBytesWritten: number
    }
    interface PeerInfo { publicKey: Buffer, client: boolean, topics: Buffer[] }
    interface PeerDiscovery {
      flushed (): Promise<void>
      refresh (opts?: { client?: boolean, server?: boolean }): Promise<void>
      destroy (): Promise<void>
    }
    interface Options {
      keyPair?: { publicKey: Buffer, secretKey: Buffer }
      dht?: HyperDHT
      bootstrap?: Array<{ host: string, port: number } | string>
      maxPeers?: number
      firewall?: (remotePublicKey: Buffer) => boolean
      [k: string]: unknown
    }
  }
  class Hyperswarm extends EventEmitter {
    constructor (opts?: Hyperswarm.Options)
    readonly dht: HyperDHT
    readonly server: { refresh (): void }
    readonly keyPair: { publicKey: Buffer, secretKey: Buffer }
    readonly connections: Set<Hyperswarm.Connection>
    readonly destroyed: boolean
    join (topic: Buffer, opts?: { client?: boolean, server?: boolean }): Hyperswarm.PeerDiscovery
    leave (topic: Buffer): Promise<void>
    flush (): Promise<void>
    destroy (opts?: { force?: boolean }): Promise<void>
    on (event: 'connection', listener: (conn: Hyperswarm.Connection, info: Hyperswarm.PeerInfo) => void): this
    on (event: string, listener: (...args: any[]) => void): this
  }
  export = Hyperswarm
}
