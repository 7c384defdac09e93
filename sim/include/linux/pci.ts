// include/linux/pci.h
export { PCI_ANY_ID, PCI_DEVICE, IORESOURCE_MEM, IORESOURCE_IO, PCI_IRQ_LEGACY, PCI_IRQ_INTX,
  PCI_IRQ_MSI, PCI_IRQ_MSIX, PCI_IRQ_ALL_TYPES, pci_register_driver, pci_unregister_driver,
  pci_match_id, to_pci_dev, pci_name, dev_is_pci, pci_set_drvdata, pci_get_drvdata,
  pci_enable_device, pci_enable_device_mem, pci_disable_device, pcim_enable_device,
  pci_is_enabled, pci_set_master, pci_clear_master, pci_read_config_byte, pci_read_config_word,
  pci_read_config_dword, pci_write_config_byte, pci_write_config_word, pci_write_config_dword,
  pci_resource_start, pci_resource_end, pci_resource_len, pci_resource_flags, pci_request_regions,
  pci_release_regions, pci_request_region, pci_release_region, pci_iomap, pci_iounmap, pcim_iomap,
  pcim_iomap_regions, pcim_iomap_table, pci_alloc_irq_vectors, pci_free_irq_vectors,
  pci_irq_vector, pci_intx } from '../../pci/pci.ts';
export type { pci_dev, pci_driver, pci_device_id, resource } from '../../pci/pci.ts';
export { PCI_VENDOR_ID, PCI_DEVICE_ID, PCI_COMMAND, PCI_STATUS, PCI_REVISION_ID, PCI_CLASS_PROG,
  PCI_CLASS_DEVICE, PCI_HEADER_TYPE, PCI_BASE_ADDRESS_0, PCI_SUBSYSTEM_VENDOR_ID, PCI_SUBSYSTEM_ID,
  PCI_CAPABILITY_LIST, PCI_INTERRUPT_LINE, PCI_INTERRUPT_PIN, PCI_COMMAND_IO, PCI_COMMAND_MEMORY,
  PCI_COMMAND_MASTER, PCI_COMMAND_INTX_DISABLE } from '../../hw/pci.ts';
