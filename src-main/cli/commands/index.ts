// Every command of the `plmw` front, in the order `--help` lists them.
import type { Command } from '../command.js';
import { annotateCommand } from './annotate.js';
import { dataCommand } from './data.js';
import { benchCommand } from './bench.js';
import { devCommand } from './dev.js';
import { evaluateCommand } from './evaluate.js';
import { mergeCommand } from './merge.js';
import { inferCommand } from './infer.js';
import { predictCommand } from './predict.js';
import { protocolCommand } from './protocol.js';
import { runsCommand } from './runs.js';
import { modelsCommand } from './models.js';
import { trainCommand } from './train.js';
import { versionCommand } from './version.js';

export const commands: Command[] = [modelsCommand, dataCommand, inferCommand, trainCommand, evaluateCommand, predictCommand, mergeCommand, protocolCommand, runsCommand, annotateCommand, benchCommand, devCommand, versionCommand];
