// Rig case irq-leak (IRQ_LEAK_AT_UNBIND): request_irq() and no free_irq() before the driver goes,
// with MSI, then with INTx; both with pcim_enable_device(), so the descriptor is freed by devres
// after remove() (MSI: pcim_msi_release; x86 INTx: pci_disable_device -> acpi_pci_irq_disable).
import { describe, expect, test } from 'vitest';
import { bind, dmesg, machine, plug_edu, unbind } from '../../testing/index.ts';
import { kernel_codes, measured, normalise, rig_lines } from './rig.ts';
import { edu_irqleak_driver } from '../drivers/rig/irq_leak.ts';
import { M } from '../../kernel/machine.ts';

describe('rig irq-leak', () => {
  test('x86: MSI then INTx, each warned when its descriptor is freed at unbind, from the kernel\'s path', () => {
    machine({ shape: 'x86', seed: 1 });
    const { pdev } = plug_edu();
    const from = dmesg().length;
    expect(bind(edu_irqleak_driver(false), pdev)).toBe(0);
    unbind(pdev);
    expect(bind(edu_irqleak_driver(true), pdev)).toBe(0);
    unbind(pdev);
    const all = dmesg().slice(from);
    // The sim's IRQ numbers are not QEMU's (MSI 24, GSI 23).
    const irq = (l: string) => l.replace(/(irq |irq\/)\d+/g, '$1N');
    const k = measured('irq-leak/irq-leak.txt');
    expect(normalise(rig_lines(all), { dma: 'mask' }).map(irq)).toEqual(normalise(k.lines, { dma: 'mask' }).map(irq));
    expect(all.filter((l) => l.startsWith('remove_proc_entry')).map(irq)).toEqual([
      "remove_proc_entry: removing non-empty directory 'irq/N', leaking at least 'edu_irqleak'",
      "remove_proc_entry: removing non-empty directory 'irq/N', leaking at least 'edu_irqleak'",
    ]);
    expect(kernel_codes()).toEqual(['IRQ_LEAK_AT_UNBIND']);
    // Both from devres after remove(): no driver frame in either trace.
    for (const d of M.diag.list.filter((x) => x.code === 'IRQ_LEAK_AT_UNBIND')) expect(d.sites.map((s) => s.label)).toEqual(['request_irq() at']);
    expect(all.join('\n')).not.toMatch(/^ (probe|remove) \(/m);
  });
});
