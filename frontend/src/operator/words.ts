import { processTitle } from '../lib/processes';

/** processName is a process's name in words, from its symbolic name. */
export function processName(name: string): string {
  return processTitle({ name, displayName: `process.${name}.name` });
}
