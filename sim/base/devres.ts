// Managed resources (drivers/base/devres.c): released in reverse order when the driver is
// unbound or its probe fails, before dma-debug's unbind check runs.
import type { device } from './device.ts';

export function devres_add(dev: device, what: string, release: () => void, key?: unknown): void {
  dev._devres.push({ release, what, key });
}

/** Remove (without releasing) the newest entry with this key; true if found. */
export function devres_remove(dev: device, key: unknown): boolean {
  for (let i = dev._devres.length - 1; i >= 0; i--) {
    if (dev._devres[i]!.key === key) {
      dev._devres.splice(i, 1);
      return true;
    }
  }
  return false;
}

/** Release the newest entry with this key; true if found. */
export function devres_release(dev: device, key: unknown): boolean {
  for (let i = dev._devres.length - 1; i >= 0; i--) {
    if (dev._devres[i]!.key === key) {
      const [e] = dev._devres.splice(i, 1);
      e!.release();
      return true;
    }
  }
  return false;
}

export function devres_release_all(dev: device): void {
  while (dev._devres.length) dev._devres.pop()!.release();
}

/** devm_add_action_or_reset(): run `action(data)` at unbind (or now, if it cannot be added). */
export function devm_add_action_or_reset<T>(dev: device, action: (data: T) => void, data: T): number {
  devres_add(dev, 'action', () => action(data), action);
  return 0;
}
export function devm_add_action<T>(dev: device, action: (data: T) => void, data: T): number {
  return devm_add_action_or_reset(dev, action, data);
}
