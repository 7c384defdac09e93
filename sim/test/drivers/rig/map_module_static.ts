// tools/kernel-rig-cases/map-module-static/edu_modstatic.c, line for line: dma_map_single of
// a static buffer of the driver, a loadable module as on the rig (its statics in module space).
import { pcim_enable_device, pci_set_master, PCI_DEVICE, type pci_dev, type pci_driver } from '#linux/pci';
import { dma_map_single, dma_unmap_single, dma_mapping_error, dma_set_mask_and_coherent, DMA_BIT_MASK,
  DMA_TO_DEVICE } from '#linux/dma-mapping';
import { dev_info } from '#linux/device';
import { is_vmalloc_addr, virt_addr_valid } from '#linux/mm';
import { DEFINE_STATIC_BUFFER } from '#dmalab/static';
import { EDU_VENDOR, EDU_DEVICE } from '../edu_rig.ts';

const DRV_NAME = 'edu_modstatic';
const modbuf = DEFINE_STATIC_BUFFER(256, 64, 'module');

function probe(pdev: pci_dev): number {
  const dev = pdev.dev;
  let ret = pcim_enable_device(pdev);
  if (ret) return ret;
  pci_set_master(pdev);
  ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
  if (ret) return ret;

  dev_info(dev, 'CASE A: dma_map_single(modbuf=%px, 256, TO_DEVICE), is_vmalloc_addr=%d virt_addr_valid=%d\n',
    modbuf.addr, is_vmalloc_addr(modbuf.addr) ? 1 : 0, virt_addr_valid(modbuf.addr) ? 1 : 0);
  const h = dma_map_single(dev, modbuf.addr, modbuf.size, DMA_TO_DEVICE);
  dev_info(dev, 'CASE A: -> %pad error=%d\n', h, dma_mapping_error(dev, h));
  if (!dma_mapping_error(dev, h)) dma_unmap_single(dev, h, modbuf.size, DMA_TO_DEVICE);
  dev_info(dev, 'CASE done\n');
  return 0;
}

function remove(_pdev: pci_dev): void {}

export const edu_modstatic_driver: pci_driver = { name: DRV_NAME, id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)], probe, remove };
