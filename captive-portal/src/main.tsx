import { render } from 'preact'
import { app } from './state.js'
import { App } from './ui/app.js'
import './style.css'

app.start()
const root = document.getElementById('app')
if (root !== null) {
  root.textContent = ''
  render(<App />, root)
}
