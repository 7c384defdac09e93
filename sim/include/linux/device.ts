// include/linux/device.h, dev_printk.h, devres
export { dev_name, dev_driver_string, dev_get_drvdata, dev_set_drvdata, dev_emerg, dev_crit, dev_err,
  dev_warn, dev_notice, dev_info, dev_dbg, dev_err_probe } from '../../base/device.ts';
export type { device, device_driver, bus_type } from '../../base/device.ts';
export { devm_kmalloc, devm_kzalloc, devm_kcalloc, devm_kfree } from '../../mm/slab_api.ts';
export { devm_add_action, devm_add_action_or_reset } from '../../base/devres.ts';
