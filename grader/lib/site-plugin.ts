// The sim's Vite plugin that rewrites driver files to record the learner's call sites
// (sim/site/vite-plugin.ts). Every vitest config that runs hidden tests goes through here, so
// there is one place to change when its export changes. Imported statically so Vite's config
// loader bundles it (a runtime import of a .ts file fails under plain node).
import type { PluginOption } from 'vite';
import { dmalab_sites } from '../../sim/site/vite-plugin.ts';

export async function site_plugins(repo_root: string): Promise<PluginOption[]> {
  return [dmalab_sites(repo_root)];
}
