// Runs sandboxed, before the page, in an isolated world; bundled to one CJS file because a
// sandboxed preload can only require('electron') and a few built-ins.
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { buildBridge } from './bridge.ts';

contextBridge.exposeInMainWorld('ganStudio', buildBridge(ipcRenderer, webUtils));
