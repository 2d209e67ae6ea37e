import { useEffect, useState } from 'preact/hooks'
import type { QrCode } from './qr.js'

/** The QR encoder loads only when a QR code is first shown (it is not needed on first load). */
export function LazyQr (props: { text: string, label: string }) {
  const [Qr, setQr] = useState<typeof QrCode | null>(null)
  useEffect(() => {
    let alive = true
    void import('./qr.js').then(m => { if (alive) setQr(() => m.QrCode) })
    return () => { alive = false }
  }, [])
  return Qr !== null ? <Qr {...props} /> : <p class='hint' role='status'>Drawing the QR code…</p>
}
