// The kernel rig's include/edu.h, in TypeScript: the edu register map and a polling DMA helper,
// for the two fidelity drivers ported from ../shared/kernel-rig/examples.
import { readq, writeq, type iomem } from '#linux/io';
import { msleep } from '#linux/delay';
import { ETIMEDOUT } from '#linux/errno';

export const EDU_VENDOR = 0x1234, EDU_DEVICE = 0x11e8;
export const EDU_REG_ID = 0x00, EDU_REG_DMA_SRC = 0x80, EDU_REG_DMA_DST = 0x88, EDU_REG_DMA_CNT = 0x90,
  EDU_REG_DMA_CMD = 0x98;
export const EDU_CMD_START = 0x1, EDU_CMD_TO_RAM = 0x2, EDU_CMD_IRQ = 0x4;
export const EDU_BUF_ADDR = 0x40000, EDU_BUF_SIZE = 4096;
/** QEMU 7.2's off-by-one made the rig transfer 4095 bytes; kept so the runs match. */
export const EDU_DMA_XFER = EDU_BUF_SIZE - 1;

export function edu_dma_poll(bar: iomem, src: number, dst: number, cnt: number, cmd: number): number {
  writeq(src, bar + EDU_REG_DMA_SRC);
  writeq(dst, bar + EDU_REG_DMA_DST);
  writeq(cnt, bar + EDU_REG_DMA_CNT);
  writeq(cmd | EDU_CMD_START, bar + EDU_REG_DMA_CMD);
  for (let i = 0; i < 500; i++) {
    if (!(readq(bar + EDU_REG_DMA_CMD) & EDU_CMD_START)) return 0;
    msleep(10);
  }
  return -ETIMEDOUT;
}
