// A Vite plugin (vitest uses it) that rewrites driver files to record call sites.
import path from 'node:path';
import { transform_sites } from './transform.ts';
import { is_driver_source, course_path } from './which.ts';

export function dmalab_sites(root = path.resolve(import.meta.dirname, '../..')) {
  return {
    name: 'dmalab-sites',
    enforce: 'pre' as const,
    transform(code: string, id: string) {
      const file = id.split('?')[0]!;
      if (!is_driver_source(file, root)) return null;
      const r = transform_sites(code, course_path(file));
      return r ? { code: r.code, map: r.map } : null;
    },
  };
}

export default dmalab_sites;
