// Loaded with `node --import` before a command: writes the process's peak RSS (bytes) to the
// file named by PLMW_MAX_RSS_FILE when the process exits, so a test can bound a command's memory.
import { writeFileSync } from 'node:fs';

const file = process.env.PLMW_MAX_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS * 1024)));
