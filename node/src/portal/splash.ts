/** Text for HTML element content and quoted attribute values. */
export function escapeHtml (s: string): string {
  return s.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`)
}

export interface SplashContent {
  /** Community / node name (operator text). */
  title: string
  /** Operator paragraphs (plain text; blank lines separate paragraphs). */
  text: string
  /** The app's address to open in the real browser, e.g. `http://10.42.0.1/`. */
  appUrl: string
  hasLogo: boolean
  /** The client already tapped Continue. */
  accepted: boolean
  /** Probes keep answering "captive" after Continue. */
  honest: boolean
}

function paragraphs (text: string): string {
  return text.split(/\n\s*\n/).map(p => p.trim()).filter(p => p !== '')
    .map(p => `<p class="operator">${escapeHtml(p).replace(/\n/g, '<br>')}</p>`).join('\n')
}

/**
 * The splash page: no script at all (the CSP forbids inline script, and the captive sheets
 * are poor browsers). Continue is a real form POST so iOS sees a full page load.
 */
export function renderSplash (c: SplashContent): string {
  const title = escapeHtml(c.title)
  const url = escapeHtml(c.appUrl)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${title}</title>
<link rel="stylesheet" href="/portal/splash.css">
</head>
<body>
<main>
${c.hasLogo ? `<img class="logo" src="/portal/logo" alt="">` : ''}
<h1>${title}</h1>
<p class="what">This Wi-Fi is a local community network: a place to post, follow people nearby and send private messages, with no internet.</p>
${paragraphs(c.text)}
<ul class="facts">
<li>Works here: the ${title} app, posts and messages of people on this network and the nodes it syncs with.</li>
<li>Does not work while you are connected: the internet, so your other apps and websites will not load.</li>
</ul>
${c.accepted ? '<p class="done">You are connected. Open the app below.</p>' : ''}
<form method="post" action="/portal/continue">
<button type="submit">Continue</button>
</form>
<p class="open">For the best experience, open <a href="${url}">${url}</a> in your browser (Chrome, Safari, Firefox).</p>
<ul class="help">
<li><strong>Android:</strong> tap Continue, then in the menu ⋮ choose “Use this network as is”.</li>
<li><strong>iPhone / iPad:</strong> tap Continue, then Done, then open Safari at ${url}</li>
</ul>
${c.honest ? '<p class="note">This network keeps showing as “no internet”: your phone may keep using mobile data for other apps.</p>' : ''}
</main>
</body>
</html>
`
}

export const SPLASH_CSS = `*{box-sizing:border-box}
body{margin:0;font:17px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f23;background:#f6f4ef}
main{max-width:34rem;margin:0 auto;padding:1.5rem 1.25rem 3rem}
.logo{display:block;max-width:9rem;max-height:9rem;margin:0 auto 1rem}
h1{font-size:1.6rem;margin:.2rem 0 .8rem;text-align:center}
.facts,.help{padding-left:1.2rem}
.facts li,.help li{margin:.35rem 0}
form{margin:1.5rem 0}
button{display:block;width:100%;padding:.9rem;font:inherit;font-weight:600;color:#fff;background:#1f6f50;border:0;border-radius:.6rem}
.open{word-break:break-all}
.done{font-weight:600;color:#1f6f50}
.note,.help{font-size:.9rem;color:#555}
`
