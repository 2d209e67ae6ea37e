import t from 'tap'
import { buildNip11, SUPPORTED_NIPS } from '../../node/src/relay/nip11.js'
import { createHttpApp, createHttpServer, listen, closeHttpServer } from '../../node/src/http/app.js'
import { testLimits } from '../helpers/store.js'
import { testLogger } from '../helpers/log.js'

t.test('the NIP-11 document reflects the limits', async t => {
  const limits = testLimits({ maxFrameBytes: 1000, maxSubscriptions: 7, maxLimit: 300, defaultLimit: 100, maxTags: 50, maxContentLength: 2000, maxFutureSeconds: 60 })
  const doc = buildNip11({ name: 'camp', version: '1.2.3', limits })
  t.same(doc, {
    name: 'camp',
    description: doc.description,
    software: 'outpost',
    version: '1.2.3',
    supported_nips: [1, 9, 11, 40, 42],
    limitation: {
      max_message_length: 1000,
      max_subscriptions: 7,
      max_limit: 300,
      max_subid_length: 64,
      max_event_tags: 50,
      max_content_length: 2000,
      created_at_upper_limit: 60,
      auth_required: false,
      payment_required: false,
      restricted_writes: false,
      default_limit: 100
    }
  })
  t.type(doc.description, 'string')
  t.notOk('pubkey' in doc, 'no pubkey unless configured')
  const withKey = buildNip11({ name: 'x', version: '1', limits, pubkey: 'ab'.repeat(32), contact: 'tent 4', supportedNips: [1] })
  t.equal(withKey.pubkey, 'ab'.repeat(32))
  t.equal(withKey.contact, 'tent 4')
  t.same(withKey.supported_nips, [1])
  t.not(doc.supported_nips, SUPPORTED_NIPS, 'a copy, not the shared constant')
})

t.test('a web client on another origin can read the document', async t => {
  const doc = buildNip11({ name: 'camp', version: '1.2.3', limits: testLimits() })
  const app = createHttpApp({ log: testLogger(), nip11: () => doc, health: () => ({ ok: true }), staticDir: '/nonexistent' })
  const server = createHttpServer(app, { handleUpgrade: (_req, socket) => { socket.destroy() } })
  t.teardown(() => closeHttpServer(server))
  const { port } = await listen(server, '127.0.0.1', 0)
  const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { Accept: 'application/nostr+json', Origin: 'http://elsewhere' } })
  t.equal(res.status, 200)
  t.equal(res.headers.get('access-control-allow-origin'), '*')
  t.same(await res.json(), doc)
})
