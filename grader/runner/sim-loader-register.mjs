// `node --import ./grader/runner/sim-loader-register.mjs`: see sim-loader.mjs.
import { register } from 'node:module';
register('./sim-loader.mjs', import.meta.url);
