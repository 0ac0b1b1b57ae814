import urql from '@urql/vue';
import { createApp } from 'vue';
import App from './App.vue';
import { createApiClient } from './api/client';
import { onSessionExpired } from './api/session-expiry';
import { leaveOnExpiry } from './features/auth/expiry';
import { SESSION, createSession } from './features/auth/session';
import { createAppRouter } from './router';
import './styles/theme.css';

const client = createApiClient();
const session = createSession(client);
const router = createAppRouter(session);

onSessionExpired(() => leaveOnExpiry(session, router));

const app = createApp(App);
app.use(urql, client);
app.use(router);
app.provide(SESSION, session);
app.mount('#app');
