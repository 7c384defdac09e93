// include/linux/platform_device.h, ioport.h (resources), of_device.h (match data)
export { IORESOURCE_IO, IORESOURCE_MEM, IORESOURCE_IRQ, platform_driver_register, __platform_driver_register,
  platform_driver_unregister, module_platform_driver, to_platform_device, dev_is_platform, platform_get_drvdata,
  platform_set_drvdata, platform_get_resource, platform_get_resource_byname, resource_size, platform_get_irq,
  platform_get_irq_optional, platform_irq_count, devm_ioremap_resource, devm_platform_ioremap_resource,
  devm_platform_get_and_ioremap_resource, of_device_get_match_data, device_get_match_data } from '../../base/platform.ts';
export type { platform_device, platform_driver, platform_device_id, platform_module, resource } from '../../base/platform.ts';
