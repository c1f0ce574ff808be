// The renderer's security policy, kept free of 'electron' imports so tests can check it.
// Sandboxed, context-isolated, no Node in the page; a strict Content-Security-Policy; no
// navigation away from the app and no new windows.

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'", // Vue scoped styles and D3 inline styles
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function webPreferences(preloadPath: string) {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    spellcheck: false,
  } as const;
}

/** Only the app's own pages may be shown: file:// under the renderer folder, or the dev server. */
export function isAllowedNavigation(url: string, appOrigin: string): boolean {
  try {
    const u = new URL(url);
    if (!appOrigin.startsWith('file:')) return u.origin === new URL(appOrigin).origin;
    // file://…/renderer itself or below it (not a sibling such as file://…/renderer-other/).
    // Compared after URL normalisation, so `..` segments cannot climb out.
    const root = new URL(appOrigin).href.replace(/\/+$/, '');
    return u.protocol === 'file:' && (u.href === root || u.href.startsWith(root + '/'));
  } catch {
    return false;
  }
}
