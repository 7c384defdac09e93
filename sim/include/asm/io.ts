// asm/io.h
export * from '../linux/io.ts';
