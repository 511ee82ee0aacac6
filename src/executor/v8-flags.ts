// V8's optimizing and baseline compilers trade memory for speed an executor, idle nearly all its
// life, does not need: without them it holds 0.6 MiB less private memory and touches 4 MiB less of
// Node (bench/memory-breakdown.ts). They are switched off here rather than on node's command line,
// where any V8 flag makes Node refuse the code cache of its own modules, which then compile from
// source (20 ms more start-up). An ES module's imports are linked before its code runs, so the
// built-in modules the bundle imports are loaded by now with their cache; one loaded later, on a
// rare path, compiles from source.
import { setFlagsFromString } from 'node:v8';

export const V8_FLAGS = Object.freeze(['--no-opt', '--no-sparkplug']);

for (const flag of V8_FLAGS) setFlagsFromString(flag);
