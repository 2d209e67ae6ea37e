// Worker entry for VerifyPool: verifies packed 128-byte records with this thread's own verifier.
import { parentPort } from 'node:worker_threads'
import { loadVerifier } from './verify.js'

interface Job { id: number, records: ArrayBuffer, n: number }

const port = parentPort
if (port === null) throw new Error('verify-worker must run in a worker thread')

const verifier = loadVerifier()
port.postMessage({ type: 'ready', backend: verifier.backend })

port.on('message', (job: Job) => {
  try {
    const result = verifier.verifyPacked(new Uint8Array(job.records), job.n)
    port.postMessage({ type: 'result', id: job.id, result })
  } catch (err) {
    port.postMessage({ type: 'result', id: job.id, error: err instanceof Error ? err.message : String(err) })
  }
})
