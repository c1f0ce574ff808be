import { createRequire } from 'node:module';
import type { Command } from '../command.js';
import { compiledProviders } from '../../engine/runtime/providers.js';

const require = createRequire(import.meta.url);

export const versionCommand: Command = {
  name: 'version',
  summary: 'print versions of plm-workbench, onnxruntime and Node.js',
  usage: 'plmw version',
  async run() {
    const own = require('../../../package.json').version as string;
    const ort = require('onnxruntime-node/package.json').version as string;
    console.log(`plm-workbench ${own}\nonnxruntime-node ${ort} (providers built in: ${compiledProviders().join(', ')})\nnode ${process.version}`);
    return 0;
  },
};
