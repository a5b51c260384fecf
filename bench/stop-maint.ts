import type { Benchmark } from './context.js';
export const stopToMaint: Benchmark = { name: 'maint', title: 'x', run: async () => 'todo\n' };
