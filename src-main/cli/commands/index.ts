// Every command of the `plmw` front, in the order `--help` lists them.
import type { Command } from '../command.js';
import { versionCommand } from './version.js';

export const commands: Command[] = [versionCommand];
