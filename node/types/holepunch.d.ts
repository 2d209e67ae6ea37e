// Small typed shims for the parts of the Holepunch stack we use (the packages ship no types).

declare module 'rocksdb-native' {
  import type { Readable } from 'node:stream'
  namespace RocksDB {
    class ColumnFamily {
      constructor (name: string, opts?: Record<string, unknown>)
    }
    interface WriteBatch {
      tryPut (key: Buffer, value: Buffer): void
      tryDelete (key: Buffer): void
      tryDeleteRange (start: Buffer, end: Buffer): void
      flush (): Promise<void>
      destroy (): void
    }
    interface ReadBatch {
      get (key: Buffer): Promise<Buffer | null>
      tryFlush (): void
      flush (): Promise<void>
      destroy (): void
    }
    interface Range {
      gt?: Buffer, gte?: Buffer, lt?: Buffer, lte?: Buffer, reverse?: boolean, limit?: number, values?: boolean, capacity?: number
    }
    interface Entry { key: Buffer, value: Buffer }
    interface Iterator extends AsyncIterable<Entry> { destroy (err?: Error): void }
  }
  class RocksDB {
    constructor (path: string, opts?: Record<string, unknown>)
    readonly path: string
    readonly opened: boolean
    readonly closed: boolean
    ready (): Promise<void>
    close (): Promise<void>
    columnFamily (name: string | RocksDB.ColumnFamily, opts?: Record<string, unknown>): RocksDB
    get (key: Buffer): Promise<Buffer | null>
    put (key: Buffer, value: Buffer): Promise<void>
    read (opts?: Record<string, unknown>): RocksDB.ReadBatch
    write (opts?: Record<string, unknown>): RocksDB.WriteBatch
    iterator (range: RocksDB.Range, opts?: Record<string, unknown>): RocksDB.Iterator & Readable
    peek (range: RocksDB.Range, opts?: Record<string, unknown>): Promise<RocksDB.Entry | null>
    flush (opts?: Record<string, unknown>): Promise<void>
    currentWalFile (): Promise<{ path: string, logNumber?: number, sizeFileBytes?: number }>
    getProperty (name: string): Promise<string>
  }
  export = RocksDB
}

declare module 'hypercore-storage' {
  import type RocksDB from 'rocksdb-native'
  class CorestoreStorage {
    constructor (dir: string | RocksDB, opts?: Record<string, unknown>)
    readonly rocks: RocksDB
    readonly path: string
    ready (): Promise<void>
    close (): Promise<void>
  }
  export = CorestoreStorage
}

declare module 'hypercore' {
  import type { EventEmitter } from 'node:events'
  namespace Hypercore {
    interface KeyPair { publicKey: Buffer, secretKey: Buffer }
  }
  class Hypercore extends EventEmitter {
    readonly key: Buffer
    readonly discoveryKey: Buffer
    readonly length: number
    readonly contiguousLength: number
    readonly writable: boolean
    readonly readable: boolean
    readonly opened: boolean
    readonly closed: boolean
    readonly fork: number
    readonly recovering?: boolean
    readonly peers: Array<{ remotePublicKey: Buffer, remoteLength: number, remoteContiguousLength: number }>
    readonly core: { header: { frozen?: boolean } } | null
    ready (): Promise<void>
    close (): Promise<void>
    append (blocks: Buffer | Buffer[]): Promise<{ length: number, byteLength: number }>
    get (index: number, opts?: { wait?: boolean, timeout?: number }): Promise<Buffer | null>
    has (index: number): Promise<boolean>
    download (range?: Record<string, unknown>): { done (): Promise<void>, destroy (): void }
    info (): Promise<Record<string, unknown>>
  }
  export = Hypercore
}

declare module 'corestore' {
  import type Hypercore from 'hypercore'
  import type CorestoreStorage from 'hypercore-storage'
  class Corestore {
    constructor (storage: string | CorestoreStorage, opts?: Record<string, unknown>)
    readonly storage: CorestoreStorage
    ready (): Promise<void>
    close (): Promise<void>
    get (opts: { name?: string, key?: Buffer, exclusive?: boolean, valueEncoding?: unknown, [k: string]: unknown } | Buffer): Hypercore
    replicate (isInitiatorOrStream: boolean | unknown, opts?: Record<string, unknown>): any
    list (namespace?: Buffer): AsyncIterable<Buffer>
    createKeyPair (name: string): Promise<Hypercore.KeyPair>
  }
  export = Corestore
}
