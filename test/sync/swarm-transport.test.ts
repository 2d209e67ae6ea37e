import t from 'tap'
import createTestnet from 'hyperdht/testnet.js'
import type NoiseSecretStream from '@hyperswarm/secret-stream'
import { runTransportContract } from './transport-contract.js'
import { SwarmTransport, type SwarmConnectionInfo } from '../../node/src/sync/swarm.js'
import { testLogger } from '../helpers/log.js'
import { topic } from './swarm-helpers.js'

// The hyperswarm transport under the same contract as TCP: each node joins a fresh topic on a
// loopback hyperdht testnet, built from the bootstrap list only (as a private deployment is),
// and every connection goes to sync.handleStream(). Cut = both leave (their DHT nodes close),
// restore = both join again and must find each other through the DHT.
const testnet = await createTestnet(3)
t.teardown(async () => { await testnet.destroy() })
const bootstrap = testnet.bootstrap.map(b => ({ host: b.host, port: b.port }))

runTransportContract(t, 'swarm', async (t, a, b) => {
  const T = topic()
  const transports = [a, b].map(n => {
    const transport = new SwarmTransport({ topic: T, keyPair: n.keyPair, bootstrap, log: testLogger(), relookupMs: 1000 })
    transport.on('connection', (stream: NoiseSecretStream, info: SwarmConnectionInfo) => {
      n.sync.handleStream(stream, { remotePublicKey: info.remotePublicKey, source: 'swarm' })
    })
    return transport
  })
  // every connection and the DHT node close with the subtest
  t.teardown(async () => { await Promise.all(transports.map(async x => { await x.close() })) })
  await Promise.all(transports.map(async x => { await x.join() }))
  return {
    cut: async () => { await Promise.all(transports.map(async x => { await x.leave() })) },
    restore: async () => { await Promise.all(transports.map(async x => { await x.join() })) }
  }
}, { idleTimeoutMs: 3000, sources: ['swarm'] })
