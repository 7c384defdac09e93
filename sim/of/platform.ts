// The machine description and of_platform_populate() (drivers/of/platform.c, device.c): each
// described peripheral becomes a device-tree node (compatible, reg, interrupts, dmas +
// dma-names, #dma-cells, dma-coherent, iommus) and a platform device with its resources and
// DMA configuration (of_dma_configure: 32-bit masks, coherent only if the node says so, behind
// the IOMMU if the node names it). Then the registered drivers are offered the device.
import { M } from '../kernel/machine.ts';
import { new_device } from '../base/device.ts';
import { IORESOURCE_IRQ, IORESOURCE_MEM, platform_bus_type, platform_device_add, platform_probe_new,
  type platform_device, type resource } from '../base/platform.ts';
import { of_dma_is_coherent, of_node_init, of_property_present, type device_node, type of_phandle_ref } from './base.ts';
import { platform_hw_add, type PlatformModel } from '../hw/platform.ts';

/** What a "dmas" entry points at: a controller's node or its platform device. */
export type DtTarget = device_node | platform_device;

/** One peripheral in the description, as a .dts node would give it. */
export interface DtNode {
  /** Node name (default: the model's): 'serial', 'dma-controller'. */
  name?: string;
  compatible?: string[];
  /** Address of the first register window (default: the next free one). */
  reg?: number;
  /** DMA snoops the CPU caches (default: as the machine's other devices: x86 yes, arm64 no). */
  'dma-coherent'?: boolean;
  /** Behind the machine's IOMMU (default: yes where there is one). */
  iommus?: boolean;
  /** A DMA controller: how many cells follow its phandle in a client's "dmas". */
  '#dma-cells'?: number;
  /** A DMA client: its request lines, [controller, cells...] each, named by dma-names. */
  dmas?: [DtTarget, ...number[]][];
  'dma-names'?: string[];
}

function node_of(t: DtTarget): device_node {
  return 'full_name' in t ? t : t.dev.of_node!;
}

/** A node with no device behind it: status = "disabled", so no platform device is created and
 *  whatever points at it waits for a driver that never comes. */
export function of_describe_disabled(name: string, d: DtNode & { reg: number }): device_node {
  return make_node(name, d, [d.reg], [], true);
}

function make_node(name: string, d: DtNode, base: number[], irqs: number[], disabled = false): device_node {
  const unit = base.length ? `@${base[0]!.toString(16)}` : '';
  const shape_coherent = M.shape.arch === 'x86_64';
  return of_node_init(name, `/soc/${name}${unit}`, {
    compatible: d.compatible,
    reg: base.length ? base : undefined,
    interrupts: irqs.length ? irqs : undefined,
    '#dma-cells': d['#dma-cells'] !== undefined ? [d['#dma-cells']] : undefined,
    dmas: d.dmas?.map(([t, ...args]): of_phandle_ref => ({ np: node_of(t), args })),
    'dma-names': d['dma-names'],
    'dma-coherent': (d['dma-coherent'] ?? shape_coherent) || undefined,
    iommus: (d.iommus ?? true) && M.iommu ? true : undefined,
    status: disabled ? ['disabled'] : undefined,
  });
}

/** Describe a peripheral, wire its model into the machine and create its platform device
 *  (of_platform_device_create), offering it to the drivers already registered. */
export function of_platform_plug(model: PlatformModel, d: DtNode = {}): platform_device {
  const hw = platform_hw_add(model, d.reg);
  const name = d.name ?? model.name;
  const np = make_node(name, { compatible: model.compatible, ...d }, hw.base, hw.irq);
  // of_device_make_bus_id(): "<unit address>.<node name>", or the node name alone for a node
  // without registers (a client of other hardware, as a DMA_MEMCPY user can be).
  const dev = new_device(hw.base.length ? `${hw.base[0]!.toString(16)}.${name}` : name, platform_bus_type, false);
  const res: resource[] = [
    ...hw.base.map((b, i): resource => ({ start: b, end: b + model.regions[i]!.size - 1, flags: IORESOURCE_MEM, name: np.full_name })),
    ...hw.irq.map((n): resource => ({ start: n, end: n, flags: IORESOURCE_IRQ, name: np.full_name })),
  ];
  // of_dma_configure(): both masks 32-bit; coherent only if the node says so (x86 always is).
  dev.coherent_dma_mask = 0xffffffffn;
  dev.dma_mask = 0xffffffffn;
  dev._dma_limit = 0xffffffff;
  dev._coherent_limit = 0xffffffff;
  dev.dma_coherent = M.shape.arch === 'x86_64' || of_dma_is_coherent(np);
  dev._iommu = M.iommu !== null && of_property_present(np, 'iommus');
  dev.dma_parms = { max_segment_size: 65536, segment_boundary_mask: Number.MAX_SAFE_INTEGER };
  const pdev = platform_device_add(name, np, hw, dev, res);
  platform_probe_new(pdev);
  return pdev;
}
