import { lazy } from './lazy.js'

/** The QR encoder loads only when a QR code is first shown (it is not needed on first load). */
export const LazyQr = lazy(async () => (await import('./qr.js')).QrCode, 'Drawing the QR code…')
