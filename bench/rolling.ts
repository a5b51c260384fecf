import type { Benchmark } from './context.js';
export const rolling: Benchmark = { name: 'rolling', title: 'x', run: async () => 'todo\n' };
