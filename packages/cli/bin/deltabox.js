#!/usr/bin/env node
// Thin launcher so the bin link exists before the TypeScript build has run (pnpm links bins first).
import { main } from '../dist/main.js';
main(process.argv).then((code) => { process.exitCode = code; });
