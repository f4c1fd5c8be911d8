// Entry point: mounts the app with the transport's client (Electron IPC or browser WebSocket).
import './lib/zod-setup.ts';
import { mount } from 'svelte';
import App from './App.svelte';
import { pickClient } from './lib/transport/index.ts';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('#app is missing from index.html');
mount(App, { target, props: { client: pickClient() } });
