// `node --import tsx --import ./sim/site/register.ts entry.ts`: driver files loaded by Node get
// their call sites recorded (sim/site/node-hooks.ts).
import { register } from 'node:module';
register('./node-hooks.ts', import.meta.url);
