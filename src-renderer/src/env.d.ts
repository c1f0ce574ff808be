/// <reference types="vite/client" />
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

interface Window {
  /** The Electron preload's bridge (src-preload/index.ts); absent in browser mode. */
  plmw?: import('../../src-main/api/contract.js').PlmwBridge;
}
