// The application menu, as a template built from actions (no 'electron' values: testable).
import type { MenuItemConstructorOptions } from 'electron';
import type { OpenKind } from './files.js';

export interface MenuActions {
  openFiles(kind: OpenKind): void;
  showSettings(): void;
}

export function menuTemplate(a: MenuActions, o: { isMac: boolean; dev: boolean }): MenuItemConstructorOptions[] {
  const file: MenuItemConstructorOptions = {
    label: 'File',
    submenu: [
      { label: 'Open FASTA…', accelerator: 'CmdOrCtrl+O', click: () => a.openFiles('fasta') },
      { label: 'Open Structure…', accelerator: 'CmdOrCtrl+Shift+O', click: () => a.openFiles('structure') },
      { type: 'separator' },
      { label: o.isMac ? 'Settings…' : 'Preferences…', accelerator: 'CmdOrCtrl+,', click: () => a.showSettings() },
      { type: 'separator' },
      o.isMac ? { role: 'close' } : { role: 'quit' },
    ],
  };
  const view: MenuItemConstructorOptions = {
    label: 'View',
    submenu: [
      ...(o.dev ? ([{ role: 'reload' }, { role: 'toggleDevTools' }, { type: 'separator' }] as MenuItemConstructorOptions[]) : []),
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
    ],
  };
  return [
    ...(o.isMac ? [{ role: 'appMenu' } as MenuItemConstructorOptions] : []),
    file,
    { role: 'editMenu' },
    view,
    { role: 'windowMenu' },
    { role: 'help', submenu: [{ role: 'about' }] },
  ];
}
