import t from 'tap'
import { runTransportContract } from './transport-contract.js'
import { createProxy } from './proxy.js'

// TCP (static peers and LAN addresses take this path): each side dials the other through a
// loopback proxy, so the test can cut the link.
runTransportContract(t, 'tcp', async (t, a, b) => {
  const toA = await createProxy(t, a.port)
  const toB = await createProxy(t, b.port)
  b.sync.addPeerAddress({ host: '127.0.0.1', port: toA.port, source: 'static' })
  a.sync.addPeerAddress({ host: '127.0.0.1', port: toB.port, source: 'lan' })
  return {
    cut: async () => { toA.set('refuse'); toB.set('refuse') },
    restore: async () => { toA.set('forward'); toB.set('forward') }
  }
}, { sources: ['static', 'lan', 'incoming'] })
