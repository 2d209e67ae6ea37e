// Minimal types for multicast-dns 7 (the transport under bonjour-service): what mdns.ts uses.
declare module 'multicast-dns' {
  import type { EventEmitter } from 'node:events'
  import type { Socket } from 'node:dgram'

  export interface MdnsRecord {
    name: string
    type: string
    ttl?: number
    class?: string
    flush?: boolean
    data?: unknown
  }
  export interface MdnsQuestion { name: string, type: string, class?: string }
  export interface MdnsPacket {
    id?: number
    type?: 'query' | 'response'
    flags?: number
    questions?: MdnsQuestion[]
    answers?: MdnsRecord[]
    authorities?: MdnsRecord[]
    additionals?: MdnsRecord[]
  }
  export interface RemoteInfo { address: string, port: number, family?: string, size?: number }
  export interface MdnsOptions {
    port?: number
    type?: 'udp4' | 'udp6'
    ip?: string
    interface?: string
    bind?: string | false
    socket?: Socket
    reuseAddr?: boolean
    multicast?: boolean
    loopback?: boolean
    ttl?: number
  }
  export interface MulticastDns extends EventEmitter {
    send (packet: MdnsPacket, rinfo: { address: string, port: number } | null, cb: (err?: Error | null) => void): void
    destroy (cb?: () => void): void
  }
  function multicastDns (opts?: MdnsOptions): MulticastDns
  export default multicastDns
}
