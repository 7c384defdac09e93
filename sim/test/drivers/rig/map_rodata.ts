// tools/kernel-rig-cases/map-rodata/edu_rodata.c, line for line (C-M5 on x86-64): map read-only
// data through its kernel-image address and its linear alias, and a page of "kernel text".
// The sim's kernel image holds the driver's own rodata (DEFINE_RODATA) where the C module used
// the kernel's hex_asc[]; the text page is the start of the image.
import { pcim_enable_device, pci_set_master, PCI_DEVICE, type pci_dev, type pci_driver } from '#linux/pci';
import { dma_map_single, dma_unmap_single, dma_map_page, dma_unmap_page, dma_mapping_error,
  dma_set_mask_and_coherent, DMA_BIT_MASK, DMA_TO_DEVICE } from '#linux/dma-mapping';
import { dev_info } from '#linux/device';
import { virt_to_phys, phys_to_virt } from '#linux/io';
import { virt_to_page, offset_in_page } from '#linux/mm';
import { DEFINE_RODATA } from '#dmalab/static';
import { EDU_VENDOR, EDU_DEVICE } from '../edu_rig.ts';

const DRV_NAME = 'edu_rodata';
const hex_asc = DEFINE_RODATA([...'0123456789abcdef'].map((c) => c.charCodeAt(0)));

function probe(pdev: pci_dev): number {
  const dev = pdev.dev;
  /** &dma_map_page_attrs: an address in the image's text, 0xf97 into its page as in the rig. */
  const text = hex_asc.addr - (hex_asc.addr % 0x1000000) + 0x5bf97;
  const ro_lm = phys_to_virt(virt_to_phys(hex_asc.addr)); /* lm_alias() */
  let ret = pcim_enable_device(pdev);
  if (ret) return ret;
  pci_set_master(pdev);
  ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
  if (ret) return ret;

  dev_info(dev, 'CASE A: dma_map_single(hex_asc=%px, 16) (kernel rodata, image address)\n', hex_asc.addr);
  let h = dma_map_single(dev, hex_asc.addr, 16, DMA_TO_DEVICE);
  dev_info(dev, 'CASE A: -> %pad\n', h);
  if (!dma_mapping_error(dev, h)) dma_unmap_single(dev, h, 16, DMA_TO_DEVICE);
  dev_info(dev, 'CASE B: dma_map_single(lm_alias(hex_asc)=%px, 16) (linear alias)\n', ro_lm);
  h = dma_map_single(dev, ro_lm, 16, DMA_TO_DEVICE);
  dev_info(dev, 'CASE B: -> %pad\n', h);
  if (!dma_mapping_error(dev, h)) dma_unmap_single(dev, h, 16, DMA_TO_DEVICE);
  dev_info(dev, 'CASE C: dma_map_page(virt_to_page(text=%px), off %lu, 64)\n', text, offset_in_page(text));
  h = dma_map_page(dev, virt_to_page(text), offset_in_page(text), 64, DMA_TO_DEVICE);
  dev_info(dev, 'CASE C: -> %pad\n', h);
  if (!dma_mapping_error(dev, h)) dma_unmap_page(dev, h, 64, DMA_TO_DEVICE);
  dev_info(dev, 'CASE done\n');
  return 0;
}

function remove(_pdev: pci_dev): void {}

export const edu_rodata_driver: pci_driver = { name: DRV_NAME, id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)], probe, remove };
