// The sim's Vite plugin that rewrites driver files to record the learner's call sites
// (sim/site/vite-plugin.ts, written by the sim's side). Every vitest config that runs hidden
// tests goes through here, so there is one place to change when its export changes.
//
// >>> INTEGRATION POINT: the plugin is imported if the file exists. Accepted exports, in order:
// >>> `default`, `dmalab_site`, `site_plugin`; a function is called with no arguments.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PluginOption } from 'vite';

export async function site_plugins(repo_root: string): Promise<PluginOption[]> {
  const file = join(repo_root, 'sim', 'site', 'vite-plugin.ts');
  if (!existsSync(file)) return [];
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const p = mod.default ?? mod.dmalab_site ?? mod.site_plugin;
  if (p === undefined) return [];
  return [typeof p === 'function' ? (p as () => PluginOption)() : (p as PluginOption)];
}
