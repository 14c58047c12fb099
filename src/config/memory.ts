/** Resolves a memory setting ("12.5%" of the server, "512MiB", "2GiB") to whole MiB. */
export function memoryMiB(spec: string, serverMemoryGiB: number): number {
  const share = /^(\d+(?:\.\d+)?)%$/.exec(spec);
  if (share) return Math.floor((Number(share[1]) / 100) * serverMemoryGiB * 1024);
  const size = /^(\d+)(MiB|GiB)$/.exec(spec);
  if (size) return Number(size[1]) * (size[2] === 'GiB' ? 1024 : 1);
  throw new RangeError(`expected a memory size such as "12.5%" or "2GiB", got ${JSON.stringify(spec)}`);
}
