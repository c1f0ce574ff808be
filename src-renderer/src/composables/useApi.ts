// The one way the renderer talks to the engine. In the Electron window it uses the preload's
// bridge (`window.plmw`); in the browser (`npm run web`) it uses HTTP + Server-Sent Events on
// the page's own origin with the session token from the page address (`?token=`). The token is
// then kept in sessionStorage and removed from the address bar, so it does not end up in
// bookmarks, screenshots or the history.
//
//   const api = useApi();
//   const { jobId } = await api.call('infer', { model, fasta, out });
//   const off = api.onEvent((e) => { if (e.type === 'job.progress') ... });   // auto-removed with the component
/// <reference path="../env.d.ts" />
import { getCurrentScope, onScopeDispose } from 'vue';
import type { ApiEvent, ApiMethod, ApiRequest, ApiResponse, ApiResult, PlmwBridge } from '../../../src-main/api/contract.js';
import type { ApiErrorCode } from '../../../src-main/api/errors.js';

/** A failed call: the contract's error code, message and (for bad requests) the field. */
export class ApiCallError extends Error {
  override name = 'ApiCallError';
  constructor(
    readonly code: ApiErrorCode | string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export interface Transport {
  kind: 'electron' | 'http';
  call(method: string, request: unknown): Promise<ApiResult>;
  onEvent(cb: (e: ApiEvent) => void): () => void;
}

const TOKEN_KEY = 'plmw-token';

/** The browser-mode token: from `?token=` (then stored and hidden), else from sessionStorage. */
export function sessionToken(w: Window = window): string {
  const url = new URL(w.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    try {
      w.sessionStorage.setItem(TOKEN_KEY, fromUrl);
    } catch {
      /* storage disabled: keep it in the URL */
      return fromUrl;
    }
    url.searchParams.delete('token');
    w.history.replaceState(w.history.state, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return w.sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function electronTransport(bridge: PlmwBridge): Transport {
  return {
    kind: 'electron',
    call: (method, request) => bridge.call(method as ApiMethod, request as never) as Promise<ApiResult>,
    onEvent: (cb) => bridge.onEvent(cb),
  };
}

export function httpTransport(token: string, base = ''): Transport {
  const listeners = new Set<(e: ApiEvent) => void>();
  let source: EventSource | undefined;
  return {
    kind: 'http',
    async call(method, request) {
      let res: Response;
      try {
        res = await fetch(`${base}/api/${encodeURIComponent(method)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-plmw-token': token },
          body: JSON.stringify(request ?? {}),
        });
      } catch (e) {
        return { ok: false, error: { code: 'failed', message: `the workbench server is not reachable: ${(e as Error).message}` } };
      }
      try {
        return (await res.json()) as ApiResult;
      } catch {
        return { ok: false, error: { code: 'failed', message: `the server answered ${res.status} ${res.statusText}` } };
      }
    },
    onEvent(cb) {
      listeners.add(cb);
      if (!source) {
        // One stream for all subscribers; EventSource reconnects by itself.
        source = new EventSource(`${base}/api/events?token=${encodeURIComponent(token)}`);
        source.onmessage = (m) => {
          const e = JSON.parse(m.data as string) as ApiEvent;
          for (const l of listeners) l(e);
        };
      }
      return () => {
        listeners.delete(cb);
        if (listeners.size === 0 && source) {
          source.close();
          source = undefined;
        }
      };
    },
  };
}

let shared: Transport | undefined;

/** The transport for this page: the Electron bridge when present, else HTTP/SSE. */
export function transport(): Transport {
  shared ??= window.plmw ? electronTransport(window.plmw) : httpTransport(sessionToken());
  return shared;
}

export function useApi() {
  const t = transport();
  return {
    transport: t.kind,
    /** Call a method; resolves with its response or rejects with ApiCallError. */
    async call<M extends ApiMethod>(method: M, request: ApiRequest<M>): Promise<ApiResponse<M>> {
      const r = await t.call(method, request);
      if (!r.ok) throw new ApiCallError(r.error.code, r.error.message, r.error.field);
      return r.result as ApiResponse<M>;
    },
    /** Subscribe to events; removed automatically when the calling component's scope ends. */
    onEvent(cb: (e: ApiEvent) => void): () => void {
      const off = t.onEvent(cb);
      if (getCurrentScope()) onScopeDispose(off);
      return off;
    },
    /** The path of a dropped File (Electron only; '' in the browser). */
    pathForFile(file: File): string {
      return window.plmw?.pathForFile(file) ?? '';
    },
  };
}

/** Test hook: forget the chosen transport. */
export function resetTransport(): void {
  shared = undefined;
}
