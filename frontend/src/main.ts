import { createApp } from 'vue'

import App from './App.vue'
import { applyStoredTheme } from './lib/theme'
import { router } from './router'
import './styles/main.css'

applyStoredTheme()

const app = createApp(App)
app.use(router)
// Mount after the first navigation (and so the session check): no flash of
// the login page for a user who is signed in.
void router.isReady().then(() => app.mount('#app'))
