// A bare driver for sgblk's own tests (sim/test/machine/sgblk.test.ts): probe enables the device,
// bus mastering and a 32-bit mask, and allocates a coherent descriptor table and a coherent
// 64 KiB data buffer; the tests write descriptors and registers themselves.
import { pci_enable_device, pci_disable_device, pci_request_regions, pci_release_regions, pci_iomap,
  pci_iounmap, pci_set_master, pci_clear_master, pci_set_drvdata, pci_get_drvdata, PCI_DEVICE,
  type pci_dev, type pci_driver } from '#linux/pci';
import { dma_set_mask_and_coherent, dma_alloc_coherent, dma_free_coherent, DMA_BIT_MASK,
  type dma_addr_t } from '#linux/dma-mapping';
import { readl, writel, type iomem } from '#linux/io';
import { GFP_KERNEL } from '#linux/gfp';
import { put_u32 } from '#dmalab/mem';
import { ref } from '#dmalab/ref';

export const TABLE_BYTES = 32 * 16, DATA_BYTES = 65536;

export interface sgblk_lab { pdev: pci_dev; bar: iomem; table: number; table_dma: dma_addr_t; data: number; data_dma: dma_addr_t }

function probe(pdev: pci_dev): number {
  const l: sgblk_lab = { pdev, bar: 0, table: 0, table_dma: 0, data: 0, data_dma: 0 };
  if (pci_enable_device(pdev) || pci_request_regions(pdev, 'sgblk_lab')) return -16;
  l.bar = pci_iomap(pdev, 0, 0);
  if (dma_set_mask_and_coherent(pdev.dev, DMA_BIT_MASK(32))) return -5;
  pci_set_master(pdev);
  l.table = dma_alloc_coherent(pdev.dev, TABLE_BYTES, ref(l, 'table_dma'), GFP_KERNEL);
  l.data = dma_alloc_coherent(pdev.dev, DATA_BYTES, ref(l, 'data_dma'), GFP_KERNEL);
  pci_set_drvdata(pdev, l);
  return 0;
}

function remove(pdev: pci_dev): void {
  const l = pci_get_drvdata<sgblk_lab>(pdev);
  dma_free_coherent(pdev.dev, DATA_BYTES, l.data, l.data_dma);
  dma_free_coherent(pdev.dev, TABLE_BYTES, l.table, l.table_dma);
  pci_clear_master(pdev);
  pci_iounmap(pdev, l.bar);
  pci_release_regions(pdev);
  pci_disable_device(pdev);
}

export const sgblk_lab_driver: pci_driver = { name: 'sgblk_lab', id_table: [PCI_DEVICE(0x1234, 0x5347)], probe, remove };

/** Descriptor i: bus address, byte count (written zero-based), EOT. */
export function lab_prd(l: sgblk_lab, i: number, addr: number, len: number, eot: boolean): void {
  const p = l.table + i * 16;
  put_u32(addr % 2 ** 32, p);
  put_u32(Math.floor(addr / 2 ** 32), p + 4);
  put_u32(0, p + 8);
  put_u32((((len - 1) & 0x3fffff) | (eot ? 0x80000000 : 0)) >>> 0, p + 12);
}

/** Program a command and ring the doorbell. */
export function lab_start(l: sgblk_lab, lba: number, nsect: number, write: boolean, table = l.table_dma): void {
  writel(table % 2 ** 32, l.bar + 0x10);
  writel(Math.floor(table / 2 ** 32), l.bar + 0x14);
  writel(lba, l.bar + 0x18);
  writel(nsect, l.bar + 0x1c);
  writel(1 | (write ? 2 : 0), l.bar + 0x20);
}

export function lab_reg(l: sgblk_lab, off: number): number {
  return readl(l.bar + off);
}
export function lab_wreg(l: sgblk_lab, off: number, v: number): void {
  writel(v, l.bar + off);
}
